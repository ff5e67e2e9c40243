// The `weft proxy` process: start-up errors, validate mode, reload on file change and
// SIGHUP (no failed request under load; a bad config keeps the old one serving), drain
// on SIGTERM and /quitquitquit (in-flight requests finish, exit 0).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import {
  type Backend,
  bootstrap,
  httpListener,
  listenerPort,
  request,
  requestHost,
  spawnProxy,
  splitHostPort,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
  WEFT_BIN,
  waitFor,
} from './support/harness.js';

function configWithTag(backendPort: number, tag: string, slowPort?: number) {
  const routes: unknown[] = [
    {
      match: { prefix: '/' },
      route: { cluster: 'app' },
      response_headers_to_add: [
        { header: { key: 'x-config', value: tag }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ],
    },
  ];
  if (slowPort !== undefined)
    routes.unshift({ match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: '10s' } });
  const clusters = [staticCluster('app', [backendPort])];
  if (slowPort !== undefined) clusters.push(staticCluster('slow', [slowPort]));
  return bootstrap([httpListener('main', [{ name: 'v', domains: ['*'], routes }])], clusters);
}

describe('weft proxy process', () => {
  let backend: Backend;
  let slow: Backend;

  before(async () => {
    backend = await startBackend('app');
    slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('slow done\n');
      }, 400);
    });
  });
  after(async () => {
    await backend.close();
    await slow.close();
  });

  it('refuses to start on an invalid config and lists every error with its path', () => {
    const dir = tempDir();
    const path = join(dir, 'bad.yaml');
    // Edit the YAML text form so the test reads like the config a user would break.
    const cfg = JSON.parse(JSON.stringify(configWithTag(backend.port, 'x')));
    cfg.static_resources.clusters[0].lb_policy = 'MAGIC';
    cfg.static_resources.clusters[0].bogus_field = 1;
    cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster =
      'nope';
    cfg.layered_runtime = {};
    writeFileSync(path, YAML.stringify(cfg));
    const r = spawnSync(process.execPath, [WEFT_BIN, 'proxy', '-c', path], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /WEFT_CONFIG_INVALID/);
    assert.match(r.stderr, /static_resources\.clusters\[0\]\.lb_policy/);
    assert.match(r.stderr, /static_resources\.clusters\[0\]\.bogus_field: unsupported field/);
    assert.match(r.stderr, /virtual_hosts\[0\]\.routes\[0\]\.route\.cluster/);
    assert.match(r.stderr, /layered_runtime/);
  });

  it('validates a config with --mode validate', () => {
    const path = join(tempDir(), 'ok.yaml');
    writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'x')));
    const r = spawnSync(process.execPath, [WEFT_BIN, 'proxy', '-c', path, '--mode', 'validate'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK/);
  });

  it('reloads on file change and SIGHUP with no failed request under load; a bad config keeps the old one', async () => {
    const path = join(tempDir(), 'envoy.yaml');
    writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'v1')));
    const p = await spawnProxy(path);
    try {
      const port = await listenerPort(p.adminAddress, 'main');
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      let failures = 0;
      let ok = 0;
      const tagsSeen = new Set<string>();
      let stop = false;
      const worker = async (): Promise<void> => {
        // Bounded: stops when told, and never more than 3000 requests per worker.
        for (let i = 0; i < 3000 && !stop; i++) {
          try {
            const r = await request(port, '/x', { agent });
            if (r.status === 200) ok++;
            else failures++;
            tagsSeen.add(String(r.headers['x-config']));
          } catch {
            failures++;
          }
        }
      };
      const load = Promise.all([worker(), worker(), worker(), worker()]);
      await waitFor(() => ok > 50, 'load to start');

      writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'v2')));
      await waitFor(() => tagsSeen.has('v2'), 'file-change reload to take effect');

      writeFileSync(path, 'static_resources: { listeners: [ { name: 1 } ] }\n'); // invalid
      await waitFor(
        () => p.output.stderr.includes('config reload rejected'),
        'the bad config to be reported',
      );
      const before = ok;
      await waitFor(() => ok > before + 50, 'traffic to continue on the old config');

      const [host, aport] = splitHostPort(p.adminAddress);
      const stats = await requestHost(host, aport, '/stats?filter=config_reload');
      assert.match(stats.body, /server\.config_reload_failure: 1/);

      writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'v3')));
      await waitFor(() => tagsSeen.has('v3'), 'reload after the bad config');
      stop = true;
      await load;
      agent.destroy();
      assert.equal(failures, 0, `failed requests during reloads (ok=${ok})`);
      assert.match(p.output.stderr, /unsupported|must be|expected/);
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });

  it('reloads on SIGHUP with --no-watch', async () => {
    const path = join(tempDir(), 'envoy.yaml');
    writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'h1')));
    const p = await spawnProxy(path, ['--no-watch']);
    try {
      const port = await listenerPort(p.adminAddress, 'main');
      assert.equal((await request(port, '/')).headers['x-config'], 'h1');
      writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'h2')));
      p.child.kill('SIGHUP');
      await waitFor(async () => (await request(port, '/')).headers['x-config'] === 'h2', 'SIGHUP reload');
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });

  it('drains on SIGTERM: in-flight requests finish, then exit 0', async () => {
    const path = join(tempDir(), 'envoy.yaml');
    writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'd', slow.port)));
    const p = await spawnProxy(path);
    const port = await listenerPort(p.adminAddress, 'main');
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const inFlight = Array.from({ length: 20 }, () => request(port, '/slow', { agent }));
    await waitFor(() => slow.seen.length >= 20, 'requests to reach the backend');
    p.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    agent.destroy();
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'slow done\n');
      assert.equal(r.headers.connection, 'close');
    }
    assert.equal(await p.exited, 0);
    await assert.rejects(request(port, '/'), /ECONNREFUSED/);
  });

  it('exits 0 on POST /quitquitquit', async () => {
    const path = join(tempDir(), 'envoy.yaml');
    writeFileSync(path, YAML.stringify(configWithTag(backend.port, 'q')));
    const p = await spawnProxy(path);
    const [host, aport] = splitHostPort(p.adminAddress);
    assert.equal((await requestHost(host, aport, '/quitquitquit')).status, 405);
    assert.equal((await requestHost(host, aport, '/quitquitquit', 'POST')).status, 200);
    assert.equal(await p.exited, 0);
  });
});

describe('drain after drain', () => {
  it('a shutdown after /drain_listeners still waits for the requests that were draining', async () => {
    const slowBackend = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('done\n'), 300);
    });
    const proxy = await startProxy(
      bootstrap(
        [
          httpListener('main', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'slow' } }] },
          ]),
        ],
        [staticCluster('slow', [slowBackend.port])],
      ),
      { drainTimeMs: 5000 },
    );
    try {
      const port = proxy.port('main');
      const inFlight = Array.from({ length: 5 }, () => request(port, '/'));
      await waitFor(() => slowBackend.seen.length >= 5, 'requests to reach the backend');
      void proxy.proxy.drainListeners();
      await proxy.close(); // shutdown: must wait for the five draining requests
      const results = await Promise.all(inFlight);
      for (const r of results) assert.equal(r.body, 'done\n');
    } finally {
      await slowBackend.close();
    }
  });
});
