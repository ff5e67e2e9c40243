// What the access log and headers need to know about a downstream TLS connection: the
// protocol version, the URI SANs of both certificates and the requested server name.
// Read once per connection from the TLSSocket (after the handshake).

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { subjectAltNames } from './san-matcher.js';

export interface DownstreamTlsInfo {
  /** 'TLSv1.2' or 'TLSv1.3' (%DOWNSTREAM_TLS_VERSION%). */
  readonly version: string;
  /** The client certificate's URI SANs, comma-separated; '' when none (%DOWNSTREAM_PEER_URI_SAN%). */
  readonly peerUriSan: string;
  /** The server certificate's URI SANs (%DOWNSTREAM_LOCAL_URI_SAN%). */
  readonly localUriSan: string;
  /** The SNI the client sent, '' when none (%REQUESTED_SERVER_NAME%). */
  readonly serverName: string;
}

function uriSans(text: string | undefined): string {
  let out = '';
  for (const san of subjectAltNames(text)) {
    if (san.type === 'URI') out = out === '' ? san.value : `${out},${san.value}`;
  }
  return out;
}

/** The TLS facts of a downstream socket; null for plain TCP. */
export function downstreamTlsInfo(socket: Socket): DownstreamTlsInfo | null {
  if (!(socket instanceof TLSSocket)) return null;
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    version: socket.getProtocol() ?? '',
    peerUriSan: uriSans(socket.getPeerX509Certificate()?.subjectAltName),
    localUriSan: uriSans(socket.getX509Certificate()?.subjectAltName),
    serverName: typeof servername === 'string' ? servername : '',
  };
}
