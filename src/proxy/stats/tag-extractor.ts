// Envoy's default tag extraction: turns a flat stat name such as
// `cluster.backend.upstream_rq_200` into a tag-extracted name (`cluster.upstream_rq`)
// plus tags (`envoy.response_code=200`, `envoy.cluster_name=backend`), which the
// Prometheus renderer exposes as metric name and labels.
//
// Envoy docs: "Statistics → Tags" and the default tag specifiers in
// `source/common/config/well_known_names.cc`. As in Envoy, every extractor is matched
// against the *original* name; group 1 of its regex is the text removed from the name
// and group 2 the tag value. Only the families Weft emits are covered (see the list).

/** One extracted tag: Envoy's tag name (`envoy.cluster_name`) and its value. */
export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface TaggedName {
  /** The name with every tag's text removed, e.g. `cluster.upstream_rq_total`. */
  readonly name: string;
  /** In extractor order: response-code tags first, then the prefix tags. */
  readonly tags: readonly Tag[];
}

interface Extractor {
  readonly tag: string;
  /** Cheap pre-check before running the regex. */
  readonly contains: string;
  /** Group 1: text to remove; group 2: tag value. `d` flag for match indices. */
  readonly regex: RegExp;
}

// Immutable table (regexes without g/y flags keep no state between calls).
const DEFAULT_EXTRACTORS: readonly Extractor[] = [
  // http.<prefix>.downstream_rq_2xx, cluster.<name>.upstream_rq_5xx → class "2" / "5"
  { tag: 'envoy.response_code_class', contains: '_rq_', regex: /_rq_((\d))xx$/d },
  // cluster.<name>.upstream_rq_200
  { tag: 'envoy.response_code', contains: '_rq_', regex: /_rq(_(\d{3}))$/d },
  // listener.<address>.http.<prefix>.* (per-listener HCM stats)
  {
    tag: 'envoy.http_conn_manager_prefix',
    contains: 'listener.',
    regex: /^listener(?=\.).*?\.http\.((.*?)\.)/d,
  },
  // http.<prefix>.*
  { tag: 'envoy.http_conn_manager_prefix', contains: 'http.', regex: /^http\.((.*?)\.)/d },
  // http.<prefix>.rds.<route_config>.*
  { tag: 'envoy.rds_route_config', contains: '.rds.', regex: /^http(?=\.).*?\.rds\.((.*?)\.)\w+?$/d },
  // cluster.<name>.*
  { tag: 'envoy.cluster_name', contains: 'cluster.', regex: /^cluster\.((.*?)\.)/d },
  // listener.<ipv4_port | [ipv6]_port>.*  (names like listener.admin.* are not addresses)
  {
    tag: 'envoy.listener_address',
    contains: 'listener.',
    regex: /^listener\.(([_.\d]*|[_[\]a-fA-F\d]*)\.)/d,
  },
  // tcp.<prefix>.*
  { tag: 'envoy.tcp_prefix', contains: 'tcp.', regex: /^tcp\.((.*?)\.)/d },
  // vhost.<name>.vcluster.<name>.*
  { tag: 'envoy.virtual_host', contains: 'vhost.', regex: /^vhost\.((.*?)\.)/d },
  { tag: 'envoy.virtual_cluster', contains: '.vcluster.', regex: /^vhost(?=\.).*?\.vcluster\.((.*?)\.)/d },
];

/**
 * Extracts Envoy's default tags from a stat name. A tag name is produced at most once
 * (the first matching extractor wins), as in Envoy.
 */
export function extractTags(statName: string): TaggedName {
  let tags: Tag[] | null = null;
  let removals: Array<[number, number]> | null = null;
  for (const ex of DEFAULT_EXTRACTORS) {
    if (!statName.includes(ex.contains)) continue;
    if (tags?.some((t) => t.name === ex.tag)) continue;
    const m = ex.regex.exec(statName);
    if (m === null || m.indices === undefined) continue;
    const removed = m.indices[1];
    if (removed === undefined) continue;
    tags ??= [];
    removals ??= [];
    tags.push({ name: ex.tag, value: m[2] ?? '' });
    removals.push([removed[0], removed[1]]);
  }
  if (tags === null || removals === null) return { name: statName, tags: [] };
  removals.sort((a, b) => a[0] - b[0]);
  let name = '';
  let at = 0;
  for (const [start, end] of removals) {
    if (start > at) name += statName.slice(at, start);
    if (end > at) at = end;
  }
  name += statName.slice(at);
  return { name, tags };
}
