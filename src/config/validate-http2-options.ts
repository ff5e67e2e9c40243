// Validation of `envoy.config.core.v3.Http2ProtocolOptions`, used by the HTTP connection
// manager (downstream) and by clusters (upstream, through HttpProtocolOptions or the
// deprecated Cluster.http2_protocol_options). Defaults and ranges are Envoy's
// (config/core/v3/protocol.proto); every other field is refused by done().
// `allow_connect` (RFC 8441 extended CONNECT) is supported downstream only: a cluster that
// sets it is refused, since Weft does not send extended CONNECT upstream.

import type { FieldReader } from './fields.js';
import type { Http2Options } from './model.js';

/** RFC 9113 §6.5.2 minimum and maximum flow-control windows, as Envoy bounds them. */
const MIN_WINDOW = 65_535;
const MAX_WINDOW = 2_147_483_647;
/** Envoy's defaults: 256 MiB stream window, 256 MiB connection window (protocol.proto). */
const DEFAULT_STREAM_WINDOW = 268_435_456;
const DEFAULT_CONNECTION_WINDOW = 268_435_456;
const DEFAULT_MAX_CONCURRENT_STREAMS = 2_147_483_647;
const DEFAULT_HPACK_TABLE_SIZE = 4_096;

export const DEFAULT_HTTP2_OPTIONS: Http2Options = {
  hpackTableSize: DEFAULT_HPACK_TABLE_SIZE,
  maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
  initialStreamWindowSize: DEFAULT_STREAM_WINDOW,
  initialConnectionWindowSize: DEFAULT_CONNECTION_WINDOW,
  allowConnect: false,
};

/**
 * Reads an Http2ProtocolOptions message (the reader is finished with done()). `downstream`:
 * the HCM's options, where `allow_connect` is supported.
 */
export function readHttp2Options(r: FieldReader, downstream = false): Http2Options {
  const hpackTableSize = r.uint32('hpack_table_size', DEFAULT_HPACK_TABLE_SIZE);
  const maxConcurrentStreams = r.uint32(
    'max_concurrent_streams',
    DEFAULT_MAX_CONCURRENT_STREAMS,
    1,
    MAX_WINDOW,
  );
  const initialStreamWindowSize = r.uint32(
    'initial_stream_window_size',
    DEFAULT_STREAM_WINDOW,
    MIN_WINDOW,
    MAX_WINDOW,
  );
  const initialConnectionWindowSize = r.uint32(
    'initial_connection_window_size',
    DEFAULT_CONNECTION_WINDOW,
    MIN_WINDOW,
    MAX_WINDOW,
  );
  const allowConnect = r.boolean('allow_connect', false);
  if (allowConnect && !downstream)
    r.issue('allow_connect', 'extended CONNECT to an HTTP/2 upstream is not supported (downstream only)');
  r.done();
  return {
    hpackTableSize,
    maxConcurrentStreams,
    initialStreamWindowSize,
    initialConnectionWindowSize,
    allowConnect,
  };
}
