// The upgrade decision (Envoy's table in arch_overview/http/upgrades): the HCM must list
// the type; a route's own entry decides `enabled`, else the HCM entry's does.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteAction, RouteUpgradeConfig, UpgradeConfig } from '../../config/model.js';
import { decideUpgrade, upgradeTypeOf } from './upgrade.js';

function action(upgradeConfigs?: RouteUpgradeConfig[]): RouteAction {
  return {
    kind: 'route',
    cluster: { kind: 'cluster', name: 'c' },
    timeoutMs: 15_000,
    prefixRewrite: null,
    hostRewriteLiteral: null,
    ...(upgradeConfigs === undefined ? {} : { upgradeConfigs }),
  };
}

const hcm = (enabled: boolean): UpgradeConfig[] => [{ upgradeType: 'websocket', enabled }];
const route = (enabled: boolean, terminateConnect = false): RouteUpgradeConfig[] => [
  { upgradeType: 'websocket', enabled, terminateConnect },
];

describe('decideUpgrade', () => {
  test("Envoy's HCM × route table", () => {
    const allowed = (h: boolean, r: boolean | null) =>
      decideUpgrade(hcm(h), action(r === null ? undefined : route(r)), 'websocket') !== null;
    assert.equal(allowed(true, null), true, 'HCM T, route default');
    assert.equal(allowed(true, true), true, 'HCM T, route T');
    assert.equal(allowed(true, false), false, 'HCM T, route F');
    assert.equal(allowed(false, true), true, 'HCM F, route T');
    assert.equal(allowed(false, null), false, 'HCM F, route default');
    assert.equal(allowed(false, false), false, 'HCM F, route F');
  });

  test('a type the HCM does not list is refused whatever the route says', () => {
    assert.equal(decideUpgrade(undefined, action(route(true)), 'websocket'), null);
    assert.equal(
      decideUpgrade([{ upgradeType: 'connect', enabled: true }], action(route(true)), 'websocket'),
      null,
    );
    assert.equal(decideUpgrade(hcm(true), action(), ''), null, 'no Upgrade value');
  });

  test('redirect and direct-response routes use the HCM entry; connect_config is reported', () => {
    assert.deepEqual(decideUpgrade(hcm(true), null, 'websocket'), { terminateConnect: false });
    const connect: UpgradeConfig[] = [{ upgradeType: 'connect', enabled: true }];
    assert.deepEqual(
      decideUpgrade(
        connect,
        action([{ upgradeType: 'connect', enabled: true, terminateConnect: true }]),
        'connect',
      ),
      { terminateConnect: true },
    );
  });

  test('upgradeTypeOf: CONNECT, and the Upgrade value lower-cased and trimmed', () => {
    assert.equal(upgradeTypeOf('CONNECT', []), 'connect');
    assert.equal(upgradeTypeOf('GET', ['upgrade', ' WebSocket ']), 'websocket');
    assert.equal(upgradeTypeOf('GET', []), '');
  });
});
