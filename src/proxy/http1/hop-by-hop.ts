// Removes connection-specific ("hop-by-hop") header fields before a message is
// forwarded (RFC 9110 §7.6.1). Removed: Connection, Proxy-Connection, Keep-Alive, TE,
// Transfer-Encoding, Upgrade, every field named in the Connection header — and also
// Content-Length, because the serializer re-emits framing from a BodyFraming. Trailer,
// Proxy-Authenticate and Proxy-Authorization are end-to-end in RFC 9110 and are kept.

import { type HeaderList, truncateList } from '../http/headers.js';
import { hasListToken } from './field-line.js';

/**
 * Strips hop-by-hop fields from `headers` in place (one pass, no allocation).
 * `connectionTokens` is the lower-cased Connection value from the parsed head.
 */
export function stripHopByHop(headers: HeaderList, connectionTokens: string): void {
  const listed = connectionTokens !== '';
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r];
    if (isFixedHopByHop(name) || (listed && hasListToken(connectionTokens, name))) continue;
    if (w !== r) {
      headers[w] = name;
      headers[w + 1] = headers[r + 1];
    }
    w += 2;
  }
  truncateList(headers, w);
}

function isFixedHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'content-length';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return false;
  }
}

/**
 * A field a proxy does not forward as a trailer: connection-specific and framing fields
 * (RFC 9110 §6.5.1 and §7.6.1, RFC 9113 §8.2.2), Host (routing), Trailer, and
 * pseudo-header fields (HTTP/2 allows none in trailers, RFC 9113 §8.1).
 */
export function isForbiddenTrailer(name: string): boolean {
  return isFixedHopByHop(name) || name === 'host' || name === 'trailer' || name.charCodeAt(0) === 58;
}
