// Tests for the admin stats renderers (/stats text, /stats/prometheus) and Envoy's
// default tag extraction.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeLabelValue, renderPrometheus, renderStatsText } from './render.js';
import { StatsStore } from './store.js';
import { extractTags } from './tag-extractor.js';

function sampleStore(): StatsStore {
  const s = new StatsStore();
  s.counter('cluster.backend.upstream_rq_total').value = 10;
  s.counter('cluster.backend.upstream_rq_2xx').value = 8;
  s.counter('cluster.backend.upstream_rq_5xx').value = 2;
  s.counter('cluster.backend.upstream_rq_200').value = 7;
  s.counter('cluster.backend.upstream_rq_201').value = 1;
  s.counter('cluster.other.upstream_rq_total').value = 3;
  s.gauge('cluster.backend.upstream_cx_active').value = 4;
  s.counter('http.ingress_http.downstream_rq_total').value = 11;
  s.counter('http.ingress_http.downstream_rq_2xx').value = 9;
  s.counter('http.ingress_http.downstream_rq_4xx').value = 2;
  s.gauge('http.ingress_http.downstream_rq_active').value = 1;
  s.counter('listener.0.0.0.0_10000.downstream_cx_total').value = 5;
  s.counter('listener.0.0.0.0_10000.http.ingress_http.downstream_rq_2xx').value = 9;
  s.counter('listener.admin.downstream_cx_total').value = 6;
  s.counter('tcp.db.downstream_cx_total').value = 2;
  s.counter('cluster_manager.cluster_added').value = 2;
  s.gauge('server.live').value = 1;
  return s;
}

describe('extractTags', () => {
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ['cluster.backend.upstream_rq_total', 'cluster.upstream_rq_total', [['envoy.cluster_name', 'backend']]],
    [
      'cluster.backend.upstream_rq_2xx',
      'cluster.upstream_rq_xx',
      [
        ['envoy.response_code_class', '2'],
        ['envoy.cluster_name', 'backend'],
      ],
    ],
    [
      'cluster.backend.upstream_rq_503',
      'cluster.upstream_rq',
      [
        ['envoy.response_code', '503'],
        ['envoy.cluster_name', 'backend'],
      ],
    ],
    [
      'http.ingress.downstream_cx_total',
      'http.downstream_cx_total',
      [['envoy.http_conn_manager_prefix', 'ingress']],
    ],
    [
      'listener.127.0.0.1_80.http.ingress.downstream_rq_5xx',
      'listener.http.downstream_rq_xx',
      [
        ['envoy.response_code_class', '5'],
        ['envoy.http_conn_manager_prefix', 'ingress'],
        ['envoy.listener_address', '127.0.0.1_80'],
      ],
    ],
    [
      'listener.[__1]_80.downstream_cx_total',
      'listener.downstream_cx_total',
      [['envoy.listener_address', '[__1]_80']],
    ],
    ['listener.admin.downstream_cx_total', 'listener.admin.downstream_cx_total', []],
    ['tcp.db.downstream_cx_total', 'tcp.downstream_cx_total', [['envoy.tcp_prefix', 'db']]],
    ['cluster_manager.cluster_added', 'cluster_manager.cluster_added', []],
    ['upstream_rq_timeout', 'upstream_rq_timeout', []],
  ];
  for (const [input, name, tags] of cases) {
    it(input, () => {
      const r = extractTags(input);
      assert.equal(r.name, name);
      assert.deepEqual(
        r.tags.map((t) => [t.name, t.value]),
        tags,
      );
    });
  }
});

describe('renderStatsText', () => {
  it('prints counters and gauges merged and sorted', () => {
    const s = new StatsStore();
    s.counter('b.count').value = 2;
    s.gauge('a.gauge').value = -1;
    s.counter('c.count').value = 0;
    assert.equal(renderStatsText(s), 'a.gauge: -1\nb.count: 2\nc.count: 0\n');
  });

  it('filters by regex (also with a global flag)', () => {
    const s = sampleStore();
    const out = renderStatsText(s, /^cluster\.backend\.upstream_rq_\dxx$/g);
    assert.equal(out, 'cluster.backend.upstream_rq_2xx: 8\ncluster.backend.upstream_rq_5xx: 2\n');
  });
});

// Prometheus text exposition format 0.0.4: a sample line.
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? (?:-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)$/;
const TYPE_LINE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;

describe('renderPrometheus', () => {
  const out = renderPrometheus(sampleStore());
  const lines = out.split('\n');

  it('renders families with Envoy names, labels and types', () => {
    const expected = [
      '# TYPE envoy_cluster_manager_cluster_added counter',
      'envoy_cluster_manager_cluster_added 2',
      '# TYPE envoy_cluster_upstream_cx_active gauge',
      'envoy_cluster_upstream_cx_active{envoy_cluster_name="backend"} 4',
      '# TYPE envoy_cluster_upstream_rq counter',
      'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"} 7',
      'envoy_cluster_upstream_rq{envoy_response_code="201",envoy_cluster_name="backend"} 1',
      '# TYPE envoy_cluster_upstream_rq_total counter',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 10',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="other"} 3',
      '# TYPE envoy_cluster_upstream_rq_xx counter',
      'envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="backend"} 8',
      'envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="backend"} 2',
      '# TYPE envoy_http_downstream_rq_active gauge',
      'envoy_http_downstream_rq_active{envoy_http_conn_manager_prefix="ingress_http"} 1',
      '# TYPE envoy_http_downstream_rq_total counter',
      'envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress_http"} 11',
      '# TYPE envoy_http_downstream_rq_xx counter',
      'envoy_http_downstream_rq_xx{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress_http"} 9',
      'envoy_http_downstream_rq_xx{envoy_response_code_class="4",envoy_http_conn_manager_prefix="ingress_http"} 2',
      '# TYPE envoy_listener_admin_downstream_cx_total counter',
      'envoy_listener_admin_downstream_cx_total 6',
      '# TYPE envoy_listener_downstream_cx_total counter',
      'envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_10000"} 5',
      '# TYPE envoy_listener_http_downstream_rq_xx counter',
      'envoy_listener_http_downstream_rq_xx{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress_http",envoy_listener_address="0.0.0.0_10000"} 9',
      '# TYPE envoy_server_live gauge',
      'envoy_server_live 1',
      '# TYPE envoy_tcp_downstream_cx_total counter',
      'envoy_tcp_downstream_cx_total{envoy_tcp_prefix="db"} 2',
      '',
    ];
    assert.deepEqual(lines, expected);
  });

  it('emits only lines that parse as the exposition format, one TYPE per family', () => {
    const typed = new Set<string>();
    let current = '';
    for (const line of lines.slice(0, -1)) {
      const t = TYPE_LINE.exec(line);
      if (t !== null) {
        assert.ok(!typed.has(t[1]), `duplicate TYPE for ${t[1]}`);
        typed.add(t[1]);
        current = t[1];
        continue;
      }
      assert.match(line, SAMPLE_LINE);
      const metric = line.split(/[{ ]/, 1)[0];
      assert.equal(metric, current, 'samples follow their family TYPE line');
    }
  });

  it('escapes label values and sanitizes names', () => {
    const s = new StatsStore();
    s.counter('cluster.outbound|80||a"b\\c.upstream_cx_total').value = 1;
    s.counter('cluster.x.circuit-breakers.default.rq_open').value = 0;
    const out = renderPrometheus(s);
    assert.ok(
      out.includes('envoy_cluster_upstream_cx_total{envoy_cluster_name="outbound|80||a\\"b\\\\c"} 1\n'),
      out,
    );
    assert.ok(
      out.includes('envoy_cluster_circuit_breakers_default_rq_open{envoy_cluster_name="x"} 0\n'),
      out,
    );
    for (const line of out.split('\n').filter((l) => l !== '' && !l.startsWith('#')))
      assert.match(line, SAMPLE_LINE);
    assert.equal(escapeLabelValue('a\nb'), 'a\\nb');
  });
});
