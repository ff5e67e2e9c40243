// A bounded parser of the first bytes of a connection: is it a TLS ClientHello, and if so
// which server name (SNI, RFC 6066 §3) and application protocols (ALPN, RFC 7301 §3.1)
// does it ask for. Used by the tls_inspector listener filter to pick a filter chain before
// the handshake. It never throws on untrusted bytes: anything malformed is 'not_tls'.
//
// Layout (RFC 8446 §5.1, §4.1.2): records of {type 22 (handshake), version(2), length(2)};
// the handshake message {type 1 (client_hello), length(3), body} may span several records.
// Body: legacy_version(2), random(32), session_id<0..32>, cipher_suites<2..2^16-2>,
// compression_methods<1..2^8-1>, extensions<8..2^16-1> of {type(2), length(2), data}.

/** Envoy's tls_inspector default `max_client_hello_size`. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const MAX_RECORD_PAYLOAD = 16_384 + 2048;

export type ClientHelloResult =
  | { readonly kind: 'need_more' }
  | { readonly kind: 'not_tls' }
  | { readonly kind: 'too_large' }
  | {
      readonly kind: 'client_hello';
      /** Lower-cased host name, '' when the client sent none. */
      readonly serverName: string;
      readonly alpn: readonly string[];
    };

const NEED_MORE: ClientHelloResult = { kind: 'need_more' };
const NOT_TLS: ClientHelloResult = { kind: 'not_tls' };
const TOO_LARGE: ClientHelloResult = { kind: 'too_large' };

/** Parses the bytes received so far (from the start of the connection). */
export function parseClientHello(data: Buffer, maxBytes = MAX_CLIENT_HELLO_BYTES): ClientHelloResult {
  if (data.length === 0) return NEED_MORE;
  if (data[0] !== RECORD_HANDSHAKE) return NOT_TLS;
  // Reassemble the handshake message from consecutive handshake records.
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  for (;;) {
    if (data.length < off + 5) return data.length > maxBytes ? TOO_LARGE : NEED_MORE;
    if (data[off] !== RECORD_HANDSHAKE || data[off + 1] !== 3) return NOT_TLS;
    const len = data.readUInt16BE(off + 3);
    if (len === 0 || len > MAX_RECORD_PAYLOAD) return NOT_TLS;
    if (data.length < off + 5 + len) return off + 5 + len > maxBytes ? TOO_LARGE : NEED_MORE;
    fragments.push(data.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return NOT_TLS;
      need = 4 + ((head[1] << 16) | (head[2] << 8) | head[3]);
      if (need > maxBytes) return TOO_LARGE;
    }
    if (need >= 0 && have >= need) break;
    if (off > maxBytes) return TOO_LARGE;
  }
  const msg = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
  return parseBody(msg.subarray(4, need));
}

function parseBody(b: Buffer): ClientHelloResult {
  let p = 2 + 32; // legacy_version, random
  if (b.length < p + 1) return NOT_TLS;
  p += 1 + b[p]; // session_id
  if (b.length < p + 2) return NOT_TLS;
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (b.length < p + 1) return NOT_TLS;
  p += 1 + b[p]; // compression_methods
  if (p > b.length) return NOT_TLS;
  let serverName = '';
  let alpn: string[] = [];
  if (p === b.length) return { kind: 'client_hello', serverName, alpn }; // no extensions
  if (b.length < p + 2) return NOT_TLS;
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return NOT_TLS;
  p += 2;
  while (p < end) {
    if (end < p + 4) return NOT_TLS;
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const ext = p + 4;
    p = ext + len;
    if (p > end) return NOT_TLS;
    if (type === EXT_SERVER_NAME) {
      const name = parseServerName(b.subarray(ext, p));
      if (name === null) return NOT_TLS;
      serverName = name;
    } else if (type === EXT_ALPN) {
      const list = parseAlpn(b.subarray(ext, p));
      if (list === null) return NOT_TLS;
      alpn = list;
    }
  }
  return { kind: 'client_hello', serverName, alpn };
}

/** server_name_list: the first host_name (type 0) entry. */
function parseServerName(e: Buffer): string | null {
  if (e.length < 2 || e.readUInt16BE(0) !== e.length - 2) return null;
  let p = 2;
  while (p < e.length) {
    if (e.length < p + 3) return null;
    const type = e[p];
    const len = e.readUInt16BE(p + 1);
    if (e.length < p + 3 + len) return null;
    if (type === 0) return e.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return '';
}

/** protocol_name_list: ProtocolName<1..2^8-1> entries. */
function parseAlpn(e: Buffer): string[] | null {
  if (e.length < 2 || e.readUInt16BE(0) !== e.length - 2) return null;
  const out: string[] = [];
  let p = 2;
  while (p < e.length) {
    const len = e[p];
    if (len === 0 || e.length < p + 1 + len) return null;
    out.push(e.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
