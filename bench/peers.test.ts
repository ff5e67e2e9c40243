// Unit tests for the peer config writers and tool lookup (no peer needs to be installed).

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createDefaultHttpFilterRegistry } from '../src/config/http-filter-registry.js';
import { parseBootstrap } from '../src/config/load-bootstrap.js';
import { makeCertificate } from './certificate.js';
import {
  backendBody,
  findTools,
  freePort,
  haproxyConfig,
  nginxBackendConfig,
  nginxProxyConfig,
  weftBootstrap,
} from './peers.js';

const ports = { httpPort: 1001, tcpPort: 1002, backendPort: 1003 };

describe('backend', () => {
  it('serves exactly 1 KiB with nothing nginx would interpret inside its string', () => {
    const body = backendBody();
    assert.equal(Buffer.byteLength(body), 1024);
    assert.match(body, /^[a-z0-9]+$/);
    const conf = nginxBackendConfig('/tmp/x', 1003, body);
    assert.ok(conf.includes(`return 200 "${body}";`));
    assert.match(conf, /worker_processes 1;/);
    assert.match(conf, /listen 127\.0\.0\.1:1003;/);
  });
});

describe('nginxProxyConfig', () => {
  it('pools upstream connections over HTTP/1.1', () => {
    const conf = nginxProxyConfig('/tmp/x', ports, null);
    for (const line of [
      'server 127.0.0.1:1003;',
      'keepalive 64;',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'access_log off;',
      'listen 127.0.0.1:1001;',
    ]) {
      assert.ok(conf.includes(line), line);
    }
  });

  it('adds an HTTPS server to the same upstream pool only when asked', () => {
    assert.doesNotMatch(nginxProxyConfig('/tmp/x', ports, null), /ssl/);
    const conf = nginxProxyConfig('/tmp/x', ports, null, { port: 1005, cert: '/c.pem', key: '/k.pem' });
    assert.match(
      conf,
      /server \{\n {4}listen 127\.0\.0\.1:1005 ssl;\n {4}ssl_certificate \/c\.pem;\n {4}ssl_certificate_key \/k\.pem;/,
    );
    assert.equal(conf.match(/proxy_pass http:\/\/backend;/g)?.length, 2);
  });

  it('adds an L4 stream server only when the module is available', () => {
    assert.doesNotMatch(nginxProxyConfig('/tmp/x', ports, null), /^stream \{|load_module|1002/m);
    const conf = nginxProxyConfig('/tmp/x', ports, '/m/ngx_stream_module.so');
    assert.match(conf, /^load_module \/m\/ngx_stream_module\.so;/);
    assert.match(conf, /stream \{[\s\S]*listen 127\.0\.0\.1:1002;/);
  });
});

describe('haproxyConfig', () => {
  it('has one thread, http-reuse always, a tcp frontend and no logging', () => {
    const conf = haproxyConfig(ports);
    assert.match(conf, /nbthread 1/);
    assert.match(conf, /backend http_backend\n {2}http-reuse always/);
    assert.match(conf, /frontend tcp_in\n {2}mode tcp\n {2}bind 127\.0\.0\.1:1002/);
    assert.doesNotMatch(conf, /^\s*log\b/m);
  });
});

describe('weftBootstrap', () => {
  it("adds an HTTPS listener with the HTTP listener's routes that Weft's own validator accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-peers-'));
    try {
      const https = { port: 1005, ...makeCertificate(dir) };
      const doc = weftBootstrap({ ...ports, adminPort: 1004 }, https);
      const file = join(dir, 'weft.json');
      const parsed = parseBootstrap(JSON.stringify(doc), file, createDefaultHttpFilterRegistry());
      const names = parsed.staticResources.listeners.map((l) => l.name);
      assert.deepEqual(names, ['bench_http', 'bench_https', 'bench_tcp']);
      const [http, tls] = parse(JSON.stringify(doc)).static_resources.listeners;
      assert.deepEqual(tls.filter_chains[0].filters, http.filter_chains[0].filters);
      assert.equal(tls.address.socket_address.port_value, 1005);
      assert.equal(tls.filter_chains[0].transport_socket.name, 'envoy.transport_sockets.tls');
      const plain = parse(JSON.stringify(weftBootstrap({ ...ports, adminPort: 1004 })));
      assert.equal(plain.static_resources.listeners.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is an Envoy v3 bootstrap with an HTTP listener, a TCP listener and a STATIC cluster', () => {
    // Round-trip through YAML as the proxy will read it.
    const boot = parse(JSON.stringify(weftBootstrap({ ...ports, adminPort: 1004 })));
    assert.equal(boot.admin.address.socket_address.port_value, 1004);
    const [http, tcp] = boot.static_resources.listeners;
    assert.equal(http.address.socket_address.address, '127.0.0.1');
    const hcm = http.filter_chains[0].filters[0].typed_config;
    assert.equal(hcm.stat_prefix, 'bench');
    assert.equal(hcm.codec_type, 'AUTO');
    assert.deepEqual(hcm.route_config.virtual_hosts[0].domains, ['*']);
    assert.deepEqual(hcm.route_config.virtual_hosts[0].routes[0], {
      match: { prefix: '/' },
      route: { cluster: 'backend' },
    });
    assert.equal(
      hcm.http_filters[0].typed_config['@type'],
      'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    );
    assert.equal(hcm.access_log, undefined);
    assert.equal(tcp.filter_chains[0].filters[0].typed_config.cluster, 'backend');
    assert.equal(tcp.address.socket_address.port_value, 1002);
    const cluster = boot.static_resources.clusters[0];
    assert.equal(cluster.type, 'STATIC');
    assert.equal(
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value,
      1003,
    );
  });
});

describe('findTools', () => {
  it('reports what is missing and resolves what is present', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-tools-'));
    try {
      for (const name of ['wrk', 'hey']) {
        writeFileSync(join(dir, name), '#!/bin/sh\n');
        chmodSync(join(dir, name), 0o755);
      }
      // Only our dir on PATH; nginx/haproxy may still be found in /usr/sbin on a bench machine.
      const res = findTools(dir);
      assert.ok(!res.missing.includes('wrk') && !res.missing.includes('hey'));
      if (res.tools) assert.equal(res.tools.wrk, join(dir, 'wrk'));
      else assert.ok(res.missing.every((m) => m === 'nginx' || m === 'haproxy'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('freePort', () => {
  it('returns a bindable port number', async () => {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  });
});
