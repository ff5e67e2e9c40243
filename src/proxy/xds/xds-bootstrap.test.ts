// The bootstrap `weft proxy --xds` builds (and the overlay onto a file's bootstrap) passes the
// same validation as a file, with the xDS cluster, ADS for LDS and CDS, and the node.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../../config/http-filter-registry.js';
import { validateBootstrap } from '../../config/validate-bootstrap.js';
import { grpcTargetOf } from './grpc-target.js';
import { buildXdsBootstrap, overlayBootstrap, parseHostPort, parseLocality } from './xds-bootstrap.js';

const registry = createDefaultHttpFilterRegistry();

describe('--xds bootstrap', () => {
  it('builds a valid bootstrap: node, an HTTP/2 xDS cluster, ADS for LDS and CDS, admin', () => {
    const doc = buildXdsBootstrap({
      server: '10.1.2.3:15010',
      nodeId: 'web-1',
      nodeCluster: 'web',
      delta: true,
      adminAddress: '127.0.0.1:0',
    });
    const { bootstrap, issues } = validateBootstrap(doc, registry);
    assert.deepEqual(issues, []);
    assert.equal(bootstrap?.node?.id, 'web-1');
    assert.equal(bootstrap?.node?.cluster, 'web');
    assert.deepEqual(bootstrap?.dynamicResources, {
      ads: { apiType: 'DELTA_GRPC', clusterName: 'xds_cluster', setNodeOnFirstMessageOnly: false },
      lds: true,
      cds: true,
    });
    const xds = bootstrap!.staticResources.clusters[0];
    assert.equal(xds.http2, true);
    assert.equal(grpcTargetOf(xds), 'ipv4:10.1.2.3:15010');
    assert.deepEqual(bootstrap?.admin?.address, { address: '127.0.0.1', portValue: 0 });
  });

  it('a host name becomes a STRICT_DNS cluster and a dns: target; IPv6 in brackets', () => {
    const named = validateBootstrap(
      buildXdsBootstrap({ server: 'control.mesh:15010', nodeId: 'n' }),
      registry,
    );
    assert.equal(grpcTargetOf(named.bootstrap!.staticResources.clusters[0]), 'dns:control.mesh:15010');
    const v6 = validateBootstrap(buildXdsBootstrap({ server: '[::1]:15010', nodeId: 'n' }), registry);
    assert.equal(grpcTargetOf(v6.bootstrap!.staticResources.clusters[0]), 'ipv6:[::1]:15010');
  });

  it('refuses a malformed HOST:PORT', () => {
    assert.throws(() => parseHostPort('localhost', '--xds'), /--xds must be HOST:PORT, not 'localhost'/);
    assert.throws(() => parseHostPort('a:99999', '--xds'), /HOST:PORT/);
  });

  it('overlays a file: node from --node/--cluster, the xDS cluster and dynamic_resources added', () => {
    const file = {
      node: { id: 'from-file', metadata: { a: 1 } },
      static_resources: {
        clusters: [
          {
            name: 'local',
            load_assignment: {
              endpoints: [
                {
                  lb_endpoints: [
                    { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } },
                  ],
                },
              ],
            },
          },
        ],
      },
    };
    const doc = overlayBootstrap(file, { server: '127.0.0.1:15010', nodeId: 'flag', nodeCluster: 'c' });
    const { bootstrap, issues } = validateBootstrap(doc, registry);
    assert.deepEqual(issues, []);
    assert.deepEqual(bootstrap?.node?.metadata, { a: 1 });
    assert.equal(bootstrap?.node?.id, 'flag');
    assert.deepEqual(
      bootstrap?.staticResources.clusters.map((c) => c.name),
      ['local', 'xds_cluster'],
    );
    assert.equal(bootstrap?.dynamicResources?.ads.clusterName, 'xds_cluster');
    assert.throws(
      () => overlayBootstrap({ dynamic_resources: {} }, { server: '127.0.0.1:1' }),
      /already has dynamic_resources/,
    );
  });

  it('--locality sets node.locality (built or over a file); malformed values are refused', () => {
    const built = validateBootstrap(
      buildXdsBootstrap({
        server: '127.0.0.1:15010',
        nodeId: 'n',
        nodeLocality: parseLocality('eu/eu-b', '--locality'),
      }),
      registry,
    );
    assert.deepEqual(built.issues, []);
    assert.deepEqual(built.bootstrap?.node?.locality, { region: 'eu', zone: 'eu-b', subZone: '' });
    const file = { node: { id: 'f', locality: { region: 'us' } }, static_resources: {} };
    const over = validateBootstrap(
      overlayBootstrap(file, { nodeLocality: parseLocality('eu/eu-a/rack1', '--locality') }),
      registry,
    );
    assert.deepEqual(over.issues, []);
    assert.deepEqual(over.bootstrap?.node?.locality, { region: 'eu', zone: 'eu-a', subZone: 'rack1' });
    assert.deepEqual(parseLocality('eu', 'x'), { region: 'eu' });
    for (const bad of ['', 'eu//a', 'a/b/c/d', 'eu/ a'])
      assert.throws(() => parseLocality(bad, '--locality'), /--locality must be REGION\[\/ZONE/);
  });
});
