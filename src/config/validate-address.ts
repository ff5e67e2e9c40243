// `envoy.config.core.v3.Address` restricted to what Weft serves: a TCP socket_address.
// Pipes, internal addresses, named ports and resolvers are refused (unsupported fields).

import { isIP } from 'node:net';
import type { EnumSpec, FieldReader } from './fields.js';
import type { SocketAddress } from './model.js';

const PROTOCOL: EnumSpec<'TCP'> = { known: ['TCP', 'UDP'], supported: ['TCP'] };

export interface AddressRules {
  /** 'ip': an IP literal (listeners, admin, STATIC endpoints); 'host': IP or DNS name. */
  readonly host: 'ip' | 'host';
  /** Listeners may bind port 0 (an ephemeral port); upstream endpoints may not. */
  readonly allowPortZero: boolean;
}

// RFC 1123 host names, as DNS cluster endpoints resolve them.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/** Reads the required `Address` field `name` of `parent`. */
export function readAddress(parent: FieldReader, name: string, rules: AddressRules): SocketAddress {
  const addr = parent.requiredMessage(name);
  const sock = addr.requiredMessage('socket_address');
  sock.enumeration('protocol', 'TCP', PROTOCOL);
  const address = sock.requiredString('address');
  if (address !== '') {
    if (rules.host === 'ip') {
      if (isIP(address) === 0)
        sock.issue(
          'address',
          `'${address}' is not an IP address (a literal IPv4 or IPv6 address is required here)`,
        );
    } else if (isIP(address) === 0 && !HOSTNAME.test(address)) {
      sock.issue('address', `'${address}' is neither an IP address nor a valid host name`);
    }
  }
  const portValue = sock.uint32('port_value', 0, rules.allowPortZero ? 0 : 1, 65535);
  if (!rules.allowPortZero && !sock.has('port_value')) {
    // A missing port on an upstream endpoint would mean port 0, which cannot be connected to.
    sock.issue('port_value', 'is required');
  }
  return { address, portValue };
}
