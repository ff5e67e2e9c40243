// Unit tests for the report: medians, added latency per round, ratios, targets and markers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BEGIN_MARKER,
  checkTargets,
  END_MARKER,
  emptyRound,
  median,
  type RoundResult,
  type Row,
  renderReport,
  renderTable,
  replaceResults,
  rpsRatio,
  summarize,
} from './report.js';

function round(fields: Partial<RoundResult>): RoundResult {
  return { ...emptyRound(), ...fields };
}

function row(label: string, fields: Partial<Row>): Row {
  return {
    label,
    maxRps: null,
    p50Ms: null,
    p99Ms: null,
    addedP50Ms: null,
    addedP99Ms: null,
    vcpuPer1000Rps: null,
    peakRssMb: null,
    errors: 0,
    ...fields,
  };
}

describe('median', () => {
  it('handles odd and even counts and ignores missing values', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([null, 5, null]), 5);
    assert.equal(median([null]), null);
  });
});

describe('rpsRatio', () => {
  it('takes the median of the same-round ratios, not the ratio of the medians', () => {
    // Round 3 ran on a fast machine for nginx only: the medians would compare rounds 2 and 3.
    const weft = summarize(
      'weft',
      [round({ maxRps: 27 }), round({ maxRps: 36 }), round({ maxRps: 28 })],
      null,
    );
    const nginx = summarize(
      'nginx',
      [round({ maxRps: 30 }), round({ maxRps: 40 }), round({ maxRps: 44 })],
      null,
    );
    assert.equal(rpsRatio(weft, nginx), 0.9);
    assert.equal((weft.maxRps ?? 0) / (nginx.maxRps ?? 1), 0.7);
    // A round missing on either side is left out; rows without rounds fall back to the medians.
    const gap = summarize('weft', [round({ maxRps: 27 }), round({}), round({ maxRps: 28 })], null);
    assert.equal(rpsRatio(gap, nginx), median([27 / 30, 28 / 44]));
    assert.equal(rpsRatio(row('weft', { maxRps: 20 }), row('nginx', { maxRps: 40 })), 0.5);
  });
});

describe('summarize', () => {
  it('takes added latency per round against the same round of the direct baseline', () => {
    const direct = [
      round({ p50Ms: 0.5, p99Ms: 1.0 }),
      round({ p50Ms: 0.9, p99Ms: 3.0 }),
      round({ p50Ms: 0.5, p99Ms: 1 }),
    ];
    const proxy = [
      round({ maxRps: 100, p50Ms: 0.8, p99Ms: 1.2, errors: 1 }),
      round({ maxRps: 300, p50Ms: 1.1, p99Ms: 3.3 }),
      round({ maxRps: 200, p50Ms: 0.9, p99Ms: 1.4, errors: 2 }),
    ];
    const r = summarize('weft', proxy, direct);
    assert.equal(r.maxRps, 200);
    // per-round added p50: 0.3, 0.2, 0.4 → median 0.3 (not median(proxy) − median(direct) = 0.4)
    assert.ok(Math.abs((r.addedP50Ms ?? 0) - 0.3) < 1e-9);
    assert.ok(Math.abs((r.addedP99Ms ?? 0) - 0.3) < 1e-9);
    assert.equal(r.errors, 3);
  });

  it('has no added latency for the baseline itself', () => {
    const r = summarize('direct', [round({ p50Ms: 1 })], null);
    assert.equal(r.addedP50Ms, null);
  });
});

describe('checkTargets', () => {
  const nginx = row('nginx', { maxRps: 40000, vcpuPer1000Rps: 0.04, addedP99Ms: 0.2 });
  const haproxyTcp = row('haproxy', { maxRps: 45000 });

  it('passes a Weft that meets every target', () => {
    const weft = row('weft', { maxRps: 33000, vcpuPer1000Rps: 0.05, addedP99Ms: 0.25, peakRssMb: 50 });
    const checks = checkTargets([nginx, weft], [haproxyTcp, row('weft', { maxRps: 41000 })]);
    assert.deepEqual(
      checks.map((c) => c.verdict),
      ['PASS', 'PASS', 'PASS', 'PASS', 'PASS'],
    );
  });

  it('fails each target that is missed', () => {
    const weft = row('weft', { maxRps: 31000, vcpuPer1000Rps: 0.07, addedP99Ms: 0.31, peakRssMb: 61 });
    const checks = checkTargets([nginx, weft], [haproxyTcp, row('weft', { maxRps: 40000 })]);
    assert.deepEqual(
      checks.map((c) => c.verdict),
      ['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL'],
    );
  });

  it('floors a noise-level nginx added latency at the 0.1 ms resolution', () => {
    const weft = row('weft', { addedP99Ms: 0.15 });
    const checks = checkTargets([row('nginx', { addedP99Ms: -0.1 }), weft], []);
    assert.equal(checks[2].verdict, 'PASS');
  });

  it('reports n/a when Weft was not measured', () => {
    assert.ok(checkTargets([nginx], [haproxyTcp]).every((c) => c.verdict === 'n/a'));
  });
});

describe('renderTable', () => {
  it('adds Weft/nginx and Weft/haproxy ratio rows', () => {
    const table = renderTable([
      row('nginx', { maxRps: 40000 }),
      row('haproxy', { maxRps: 50000 }),
      row('weft', { maxRps: 20000, errors: 3 }),
    ]);
    assert.match(table, /\| weft \| 20,000 \(3 err\) \|/);
    assert.match(table, /\| \*Weft\/nginx\* \| 0\.50x \|/);
    assert.match(table, /\| \*Weft\/haproxy\* \| 0\.40x \|/);
  });

  it('compares Weft and haproxy with the bare Node relay in the TCP table', () => {
    const table = renderTable([
      row('haproxy', { maxRps: 40000 }),
      row('weft', { maxRps: 20000 }),
      row('node-pipe', { maxRps: 32000 }),
    ]);
    assert.match(table, /\| \*Weft\/node-pipe\* \| 0\.63x \|/);
    assert.match(table, /\| \*node-pipe\/haproxy\* \| 0\.80x \|/);
  });

  it('compares Weft and nginx with the HTTP framing relay in the HTTP/1.1 table', () => {
    const table = renderTable([
      row('nginx', { maxRps: 40000 }),
      row('weft', { maxRps: 16000 }),
      row('node-http-relay', { maxRps: 32000 }),
    ]);
    assert.match(table, /\| \*Weft\/node-http-relay\* \| 0\.50x \|/);
    assert.match(table, /\| \*node-http-relay\/nginx\* \| 0\.80x \|/);
    assert.doesNotMatch(table, /node-pipe/);
  });

  it('has no ratio rows without Weft', () => {
    assert.doesNotMatch(renderTable([row('nginx', { maxRps: 1 })]), /Weft\//);
  });
});

describe('renderReport', () => {
  it('includes machine, command, both tables, targets and notes', () => {
    const text = renderReport({
      title: 'Latest results',
      date: '2026-01-01T00:00:00.000Z',
      command: 'npm run bench',
      machine: { cpus: 2, cpuModel: 'Test CPU', kernel: '6.1', versions: { node: 'v20', nginx: '1.22' } },
      method: 'm',
      http: [row('direct', { maxRps: 1 })],
      tcp: [row('direct', { maxRps: 1 })],
      notes: ['weft skipped'],
    });
    for (const part of [
      '2 vCPU (Test CPU)',
      '`npm run bench`',
      'node v20, nginx 1.22',
      '#### TCP',
      '- weft skipped',
    ]) {
      assert.ok(text.includes(part), part);
    }
    assert.match(text, /\| peak RSS <= 60 MB \| not measured \| n\/a \|/);
  });
});

describe('replaceResults', () => {
  it('replaces only what is between the markers', () => {
    const doc = `# Bench\nintro\n${BEGIN_MARKER}\nold\n${END_MARKER}\ntail\n`;
    assert.equal(replaceResults(doc, 'new\n'), `# Bench\nintro\n${BEGIN_MARKER}\nnew\n${END_MARKER}\ntail\n`);
  });

  it('throws when the markers are missing', () => {
    assert.throws(() => replaceResults('# Bench\n', 'x'), /markers/);
  });
});
