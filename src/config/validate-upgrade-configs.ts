// Validation of the upgrade settings: `HttpConnectionManager.upgrade_configs[]` and
// `RouteAction.upgrade_configs[]` (with `connect_config`).
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/upgrades)
//
// Upgrade types are compared case-insensitively in Envoy, so they are lower-cased here
// once; a CONNECT request's type is `connect`. Custom upgrade filter chains (`filters`)
// and the CONNECT options Weft does not implement (`allow_post`, `proxy_protocol_config`)
// are refused by path rather than ignored.

import { type FieldReader, readMessage } from './fields.js';
import type { RouteUpgradeConfig, UpgradeConfig } from './model.js';

/** `HttpConnectionManager.upgrade_configs`; null when absent. */
export function readHcmUpgradeConfigs(r: FieldReader): UpgradeConfig[] | null {
  if (!r.has('upgrade_configs')) return null;
  const items = r.list('upgrade_configs');
  const out: UpgradeConfig[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const u = readMessage(items[i], `${r.at('upgrade_configs')}[${i}]`, r.issues);
    const upgradeType = u.requiredString('upgrade_type').toLowerCase();
    const enabled = u.boolean('enabled', true);
    if (u.has('filters')) {
      u.issue('filters', 'custom upgrade filter chains are not supported; upgrades use the HCM http_filters');
      u.ignore('filters');
    }
    u.done();
    if (upgradeType === '') continue;
    if (seen.has(upgradeType)) u.issue('upgrade_type', `duplicate upgrade type '${upgradeType}'`);
    seen.add(upgradeType);
    out.push({ upgradeType, enabled });
  }
  return out;
}

/** `RouteAction.upgrade_configs`; null when absent. */
export function readRouteUpgradeConfigs(r: FieldReader): RouteUpgradeConfig[] | null {
  if (!r.has('upgrade_configs')) return null;
  const items = r.list('upgrade_configs');
  const out: RouteUpgradeConfig[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const u = readMessage(items[i], `${r.at('upgrade_configs')}[${i}]`, r.issues);
    const upgradeType = u.requiredString('upgrade_type').toLowerCase();
    const enabled = u.boolean('enabled', true);
    const cc = u.message('connect_config');
    if (cc !== null) {
      if (upgradeType !== 'connect' && upgradeType !== '')
        u.issue('connect_config', `applies to upgrade_type CONNECT only, not '${upgradeType}'`);
      for (const unsupported of ['allow_post', 'proxy_protocol_config']) {
        if (cc.has(unsupported)) {
          cc.issue(unsupported, 'is not supported by Weft');
          cc.ignore(unsupported);
        }
      }
    }
    u.done();
    if (upgradeType === '') continue;
    if (seen.has(upgradeType)) u.issue('upgrade_type', `duplicate upgrade type '${upgradeType}'`);
    seen.add(upgradeType);
    out.push({ upgradeType, enabled, terminateConnect: cc !== null });
  }
  return out;
}
