// Interop with a client no one here wrote: @grpc/grpc-js-xds resolves `xds:///service`
// through this ADS server (LDS api_listener -> RDS -> CDS -> EDS over one ADS stream) and
// calls a real gRPC backend. The xDS client runs in a child process so its bootstrap env
// (GRPC_XDS_BOOTSTRAP_CONFIG) and global resolver registration stay out of this process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { createMemoryLogger } from '../core/logger.js';
import { type AdsServer, createAdsServer } from './ads-server.js';
import { createProtoLoader } from './protos.js';
import { createSnapshot, createStaticSnapshotSource } from './snapshot.js';
import { TYPE_URLS } from './type-urls.js';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

function meshFor(backendPort: number) {
  return createSnapshot({
    [TYPE_URLS.listener]: {
      service: {
        name: 'service',
        api_listener: {
          api_listener: {
            '@type': HCM,
            rds: {
              route_config_name: 'service-routes',
              config_source: { ads: {}, resource_api_version: 'V3' },
            },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
          },
        },
      },
    },
    [TYPE_URLS.route]: {
      'service-routes': {
        name: 'service-routes',
        virtual_hosts: [
          {
            name: 'service',
            domains: ['*'],
            routes: [{ match: { prefix: '' }, route: { cluster: 'backend' } }],
          },
        ],
      },
    },
    [TYPE_URLS.cluster]: {
      backend: {
        name: 'backend',
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
        lb_policy: 'ROUND_ROBIN',
      },
    },
    [TYPE_URLS.endpoint]: {
      backend: {
        cluster_name: 'backend',
        endpoints: [
          {
            locality: { region: 'r', zone: 'z' },
            load_balancing_weight: 1,
            lb_endpoints: [
              {
                endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: backendPort } } },
              },
            ],
          },
        ],
      },
    },
  });
}

describe('interop: @grpc/grpc-js-xds client', () => {
  let backend: Server;
  let ads: AdsServer;
  let adsPort: number;

  before(async () => {
    backend = new Server();
    backend.addService(
      {
        Say: {
          path: '/weft.test.Echo/Say',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        Say: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) =>
          done(null, Buffer.from(`hello ${call.request.toString()}`)),
      },
    );
    const backendPort = await new Promise<number>((resolve, reject) =>
      backend.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const source = createStaticSnapshotSource(meshFor(backendPort));
    ads = createAdsServer({
      source,
      protos: createProtoLoader().get(),
      logger: createMemoryLogger(),
      host: '127.0.0.1',
      port: 0,
    });
    adsPort = (await ads.start()).port;
  });

  after(async () => {
    await ads.stop();
    backend.forceShutdown();
  });

  it('resolves xds:///service through the ADS server and calls the backend; every type ends SYNCED', async () => {
    const bootstrap = {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${adsPort}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: 'grpc-client-1', cluster: 'interop', locality: {} },
    };
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'testing', 'grpc-xds-client-child.js'), 'service'],
      {
        env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      const result = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('RESULT '));
          if (line) resolve(line);
        });
        child.on('exit', (code) => reject(new Error(`client exited (${code}) before a result: ${out}`)));
      });
      assert.equal(result, 'RESULT ok hello hi');
      const [status] = ads.status();
      assert.equal(status.nodeId, 'grpc-client-1');
      assert.equal(status.protocol, 'sotw');
      // The call succeeded, so the client has used all four types; ACKs may still be in flight.
      const types = () =>
        ads
          .status()[0]
          .types.map((t) => `${t.type}:${t.state}`)
          .sort();
      for (let i = 0; i < 100_000 && types().some((t) => !t.endsWith('SYNCED')); i++) {
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(types(), ['CDS:SYNCED', 'EDS:SYNCED', 'LDS:SYNCED', 'RDS:SYNCED']);
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    }
  });
});
