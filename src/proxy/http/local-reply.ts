// Local replies: responses the proxy makes itself (no route, no healthy upstream,
// malformed request, direct_response, redirect). Bodies are short plain text that say
// what happened, as Envoy's do; the response flag and details go to the access log.

/** Envoy-compatible body texts for the proxy's own failures. */
export const LocalReplyText = {
  noHealthyUpstream: 'no healthy upstream',
  connectFailure:
    'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  connectTimeout:
    'upstream connect error or disconnect/reset before headers. reset reason: connection timeout',
  connectionTermination:
    'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  upstreamTimeout: 'upstream request timeout',
  upstreamProtocolError: 'upstream sent an invalid HTTP response',
  clusterNotFound: 'cluster not found',
  overflow: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
} as const;
