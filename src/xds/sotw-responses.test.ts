// Shared SotW outcomes: keyed by (from, to, name list, wildcard) and type URL; the bytes of an
// outcome are reused only for a stream whose last nonce is below theirs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProtoLoader } from './protos.js';
import { createResourceSet } from './snapshot.js';
import { createSotwResponses, NOTHING_SENT, type SotwOutcome } from './sotw-responses.js';

const protos = createProtoLoader().get();
const responseType = protos.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const parts = { versionInfo: 'v1', typeUrl: EDS, controlPlaneId: 'test' };

function outcome(): SotwOutcome {
  return { anything: true, updated: true, entries: [], encoded: undefined };
}

/** The DiscoveryResponse inside the bytes, whether gRPC-framed or not. */
function decode(bytes: Buffer, framed: boolean): { nonce: string; version_info: string; type_url: string } {
  return responseType.decode(framed ? bytes.subarray(5) : bytes) as unknown as {
    nonce: string;
    version_info: string;
    type_url: string;
  };
}

describe('SotW responses', () => {
  it('finds an outcome by from, to, name list identity, wildcard and type URL', () => {
    const r = createSotwResponses();
    const to = createResourceSet([['a', { cluster_name: 'a' }]]);
    const names = Object.freeze(['a']);
    const o = outcome();
    r.set(EDS, NOTHING_SENT, to, names, false, o);
    assert.equal(r.get(EDS, NOTHING_SENT, to, names, false), o);
    assert.equal(r.get(EDS, NOTHING_SENT, to, names, true), undefined, 'wildcard differs');
    assert.equal(r.get(EDS, NOTHING_SENT, to, ['a'], false), undefined, 'another array');
    assert.equal(r.get(EDS, to, to, names, false), undefined, 'another from');
    assert.equal(r.get('type.googleapis.com/other', NOTHING_SENT, to, names, false), undefined);
  });

  it('reuses bytes for streams behind their nonce and encodes again for a stream ahead of it', () => {
    const r = createSotwResponses();
    const o = outcome();
    const first = r.bytes(o, 0, parts);
    assert.equal(r.bytes(o, 0, parts), first);
    assert.equal(r.encodedCount, 1);
    const m = decode(first.bytes, first.framed);
    assert.deepEqual([m.nonce, m.version_info, m.type_url], [String(first.nonce), 'v1', EDS]);
    // A stream that was sent a later nonce (another type's or a delta response) must not go back.
    const later = r.nextNonce();
    const again = r.bytes(o, later, parts);
    assert.ok(again.nonce > later);
    assert.equal(decode(again.bytes, again.framed).nonce, String(again.nonce));
    assert.equal(r.encodedCount, 2);
    assert.equal(r.bytes(o, first.nonce, parts), again, 'the newer bytes serve the rest');
  });
});
