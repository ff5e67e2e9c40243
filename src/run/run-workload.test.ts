// Pure parts of `weft run`: the command line (every problem listed at once, the command
// after --), the Workload name, the registered Workload, the app's environment, and the
// exit status of a command ended by a signal.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeftError } from '../core/errors.js';
import { exitStatus } from './run-command.js';
import { inboundBindAddress, parseRunOptions, type RunOptions } from './run-options.js';
import { appEnvironment, choosePortName, defaultWorkloadName, workloadResource } from './run-workload.js';

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const base = ['--service', 'web', '--port', '8080', '--xds', '127.0.0.1:15010'];

function parse(argv: string[]): RunOptions {
  const o = parseRunOptions(argv, {}, sink);
  assert.ok(o !== null);
  return o;
}

describe('weft run options', () => {
  it('takes the command after -- and fills in defaults', () => {
    const o = parse([...base, '--upstreams', 'reviews,ratings.other', '--', 'node', 'app.js', '--port', '1']);
    assert.deepEqual(o.command, ['node', 'app.js', '--port', '1']);
    assert.equal(o.namespace, 'default');
    assert.equal(o.address, '127.0.0.1');
    assert.equal(o.ttlSeconds, 15);
    assert.equal(o.controlUrl, 'http://127.0.0.1:15000');
    assert.deepEqual(o.upstreams, ['reviews', 'ratings.other']);
    assert.equal(parse([...base, '--attach']).attach, true);
  });

  it('lists every problem at once as WEFT_USAGE', () => {
    assert.throws(
      () =>
        parseRunOptions(
          [
            '--service',
            'Web',
            '--port',
            '0',
            '--ttl',
            '1',
            '--labels',
            'weft.dev/x=1,noval',
            '--locality',
            'a/b/c',
            'stray',
          ],
          {},
          sink,
        ),
      (err: unknown) => {
        assert.ok(err instanceof WeftError && err.code === 'WEFT_USAGE');
        for (const re of [
          /unexpected 'stray': put the command after --/,
          /a COMMAND after -- is required \(or --attach\)/,
          /--service: 'Web' is not a DNS label/,
          /--port: expected a port from 1 to 65535, got '0'/,
          /--xds is required/,
          /--ttl: expected whole seconds from 3/,
          /--labels: 'weft.dev\/x': the weft.dev\/ prefix is reserved/,
          /--labels: expected KEY=VALUE, got 'noval'/,
          /--locality: expected REGION or REGION\/ZONE/,
        ])
          assert.match(err.message, re);
        return true;
      },
    );
    assert.throws(
      () => parseRunOptions([...base, '--attach', '--', 'node'], {}, sink),
      /--attach takes no COMMAND/,
    );
  });

  it('binds the inbound listener on loopback as given, on every interface otherwise', () => {
    assert.equal(inboundBindAddress('127.0.0.1'), '127.0.0.1');
    assert.equal(inboundBindAddress('10.0.3.7'), undefined);
    assert.equal(inboundBindAddress('vm-7.internal'), undefined);
  });
});

describe('weft run workload', () => {
  it('names the Workload <service>-<short hostname> as a DNS label, with a suffix when asked', () => {
    assert.equal(defaultWorkloadName('web', 'VM_7.eu-west.internal'), 'web-vm-7');
    assert.equal(defaultWorkloadName('web', 'vm-7', '0a1f'), 'web-vm-7-0a1f');
    assert.equal(defaultWorkloadName('web', '!!!'), 'web-x');
    assert.ok(defaultWorkloadName('web', 'h'.repeat(100), 'beef').length <= 63);
  });

  it('registers labels, annotations, locality and TTL the translator and weft up Services use', () => {
    const o = parse([
      ...base,
      '--labels',
      'version=v2',
      '--locality',
      'eu/eu-1a',
      '--upstreams',
      'reviews',
      '--address',
      '10.0.3.7',
      '--ttl',
      '30',
      '--',
      'app',
    ]);
    const w = {
      name: 'web-vm',
      nodeId: 'sidecar~default~web-vm',
      portName: 'http',
      ports: { inbound: 15006, outbound: 15001, upstreams: [15100] },
    };
    assert.deepEqual(workloadResource(o, w, false), {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Workload',
      metadata: {
        name: 'web-vm',
        namespace: 'default',
        labels: { app: 'web', version: 'v2', 'weft.dev/service': 'web', 'weft.dev/managed-by': 'weft-run' },
        annotations: {
          'weft.dev/app-port-http': '8080',
          'weft.dev/outbound-http-port': '15001',
          'weft.dev/upstream-port-reviews': '15100',
        },
      },
      spec: {
        address: '10.0.3.7',
        ports: { http: 15006 },
        ttlSeconds: 30,
        healthy: false,
        locality: { region: 'eu', zone: 'eu-1a' },
      },
    });
    assert.deepEqual(appEnvironment(o, w), {
      PORT: '8080',
      WEFT_NAMESPACE: 'default',
      WEFT_SERVICE: 'web',
      WEFT_WORKLOAD: 'web-vm',
      WEFT_OUTBOUND_URL: 'http://127.0.0.1:15001',
      WEFT_UPSTREAM_REVIEWS_URL: 'http://127.0.0.1:15100',
      WEFT_UPSTREAM_REVIEWS_ADDRESS: '127.0.0.1:15100',
    });
    assert.equal(parse([...base, '--labels', 'app=frontend', '--', 'x']).labels.app, 'frontend');
  });

  it('serves the Service port given, its only port, or http among several', () => {
    assert.equal(choosePortName(undefined, [{ name: 'grpc' }]), 'grpc');
    assert.equal(choosePortName(undefined, [{ name: 'grpc' }, { name: 'http' }]), 'http');
    assert.equal(choosePortName(undefined, [{ name: 'grpc' }, { name: 'tcp' }]), undefined);
    assert.equal(choosePortName('tcp', [{ name: 'grpc' }, { name: 'tcp' }]), 'tcp');
  });

  it('exits like a shell: the code, or 128 + the signal number', () => {
    assert.equal(exitStatus(7, null), 7);
    assert.equal(exitStatus(null, 'SIGTERM'), 143);
    assert.equal(exitStatus(null, 'SIGINT'), 130);
    assert.equal(exitStatus(null, null), 127);
  });
});
