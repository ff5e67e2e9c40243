// The node-id convention and the per-node translator overrides read from node metadata.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../xds/json-codec.js';
import { nodeIdentityOf } from './node-identity.js';

const node = (id: string, metadata: JsonObject = {}) => ({ id, metadata, raw: {} });

describe('nodeIdentityOf', () => {
  it('reads a sidecar id and a consumer id', () => {
    assert.deepEqual(nodeIdentityOf(node('sidecar~shop~web-0')).identity, {
      kind: 'sidecar',
      namespace: 'shop',
      workload: 'web-0',
    });
    assert.deepEqual(nodeIdentityOf(node('anything', { NAMESPACE: 'shop' })).identity, {
      kind: 'consumer',
      namespace: 'shop',
    });
  });

  it('turns WEFT_OUTBOUND_PORT, WEFT_INBOUND_ADDRESS and WEFT_ACCESS_LOG into translator options and a cache key', () => {
    const who = nodeIdentityOf(
      node('sidecar~shop~web-0', { WEFT_OUTBOUND_PORT: '15101', WEFT_INBOUND_ADDRESS: '127.0.0.1' }),
    );
    assert.deepEqual(who.overrides, { nodeOutboundHttpPort: 15101, inboundAddress: '127.0.0.1' });
    assert.equal(who.overridesKey, '15101|127.0.0.1|');
    const logged = nodeIdentityOf(node('sidecar~shop~web-0', { WEFT_ACCESS_LOG: 'stdout' }));
    assert.deepEqual(logged.overrides, { accessLog: 'stdout' });
    assert.equal(logged.overridesKey, '||stdout');
    assert.equal(who.problem, undefined);
    assert.equal(nodeIdentityOf(node('sidecar~shop~web-0')).overridesKey, '');
  });

  it('ignores invalid overrides and says why', () => {
    const who = nodeIdentityOf(
      node('x', { WEFT_OUTBOUND_PORT: '70000', WEFT_INBOUND_ADDRESS: 'host', WEFT_ACCESS_LOG: 'file' }),
    );
    assert.deepEqual(who.overrides, {});
    assert.match(who.problem ?? '', /WEFT_ACCESS_LOG 'file' is not stdout or off/);
    assert.match(who.problem ?? '', /WEFT_OUTBOUND_PORT '70000' is not a port number/);
    assert.match(who.problem ?? '', /WEFT_INBOUND_ADDRESS 'host' is not an IP address/);
  });
});
