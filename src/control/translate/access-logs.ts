// Access logs on a proxy's listeners, when its node asks for them (node metadata
// WEFT_ACCESS_LOG=stdout, which `weft up` and `weft run` set): every HTTP connection manager
// and tcp_proxy gets Envoy's stdout access logger with the default format, so each request
// (or connection) is one line that includes the response flags — UH, UF, URX, UO, DI, FI…
// — where a user looks first when a call fails.

import type { EnvoyJson, XdsResource } from './xds-resources.js';

export const STDOUT_ACCESS_LOG: EnvoyJson = {
  name: 'envoy.access_loggers.stdout',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' },
};

/** The listeners with an access log added to each network filter (new objects; the input is not changed). */
export function withStdoutAccessLogs(listeners: readonly XdsResource[]): XdsResource[] {
  return listeners.map((l) => {
    const chains = (l.resource.filter_chains as EnvoyJson[]).map((chain) => ({
      ...chain,
      filters: (chain.filters as EnvoyJson[]).map((f) => ({
        ...f,
        typed_config: { ...(f.typed_config as EnvoyJson), access_log: [STDOUT_ACCESS_LOG] },
      })),
    }));
    return { name: l.name, resource: { ...l.resource, filter_chains: chains } };
  });
}
