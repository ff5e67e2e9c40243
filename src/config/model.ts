// The validated, normalized Envoy v3 configuration model Weft runs from.
//
// Everything here was checked once at the edge (src/config/validate-*.ts) and is trusted
// inside the proxy: field names follow Envoy's (camelCased), units are in the names
// (`...Ms`, `...Bytes`), defaults are filled in, and enums are string literals. The same
// model is produced from a static bootstrap file and (later) from xDS resources, so the
// proxy has one internal representation and no parallel dialects.

/** `envoy.config.core.v3.SocketAddress` (TCP only). */
export interface SocketAddress {
  /** IP literal or hostname (hostnames only where the cluster type resolves them). */
  readonly address: string;
  readonly portValue: number;
}

/** `envoy.config.core.v3.Locality`. */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** `envoy.config.core.v3.Node` — who this proxy is. */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly locality: Locality | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface Bootstrap {
  readonly node: NodeInfo | null;
  readonly admin: Admin | null;
  readonly staticResources: {
    readonly listeners: readonly Listener[];
    readonly clusters: readonly Cluster[];
  };
  /** `dynamic_resources`: where LDS/CDS (and through them RDS/EDS) come from; null = static only. */
  readonly dynamicResources: DynamicResources | null;
}

/**
 * `envoy.config.bootstrap.v3.Bootstrap.DynamicResources`, restricted to one aggregated (ADS)
 * gRPC source: `ads_config` plus `lds_config` / `cds_config` set to `{ads: {}}`.
 */
export interface DynamicResources {
  readonly ads: AdsConfig;
  /** `lds_config: {ads: {}}`: listeners come from ADS. */
  readonly lds: boolean;
  /** `cds_config: {ads: {}}`: clusters come from ADS. */
  readonly cds: boolean;
}

/** `ads_config` (an `envoy.config.core.v3.ApiConfigSource`). */
export interface AdsConfig {
  /** `GRPC` = state of the world, `DELTA_GRPC` = incremental xDS. */
  readonly apiType: 'GRPC' | 'DELTA_GRPC';
  /** `grpc_services[0].envoy_grpc.cluster_name`: a static cluster of the bootstrap. */
  readonly clusterName: string;
  /** `set_node_on_first_message_only`, default false (Envoy's default). */
  readonly setNodeOnFirstMessageOnly: boolean;
}

/** `envoy.config.bootstrap.v3.Admin`. */
export interface Admin {
  readonly address: SocketAddress;
  readonly accessLog: readonly AccessLog[];
}

// ---------------------------------------------------------------------------------------
// Listeners

/** `envoy.config.listener.v3.Listener`. */
export interface Listener {
  readonly name: string;
  readonly address: SocketAddress;
  readonly filterChains: readonly FilterChain[];
  /** `per_connection_buffer_limit_bytes`, default 1 MiB. */
  readonly perConnectionBufferLimitBytes: number;
  /** `default_filter_chain`: used when no chain matches; absent = such connections are closed. */
  readonly defaultFilterChain?: FilterChain | null;
  /** `listener_filters`; absent = none. */
  readonly listenerFilters?: ListenerFilters;
}

/** The listener filters Weft has (`listener_filters`) and their timeout. */
export interface ListenerFilters {
  /** `envoy.filters.listener.tls_inspector` is configured. */
  readonly tlsInspector: boolean;
  /** `listener_filters_timeout`, default 15 s; null = no timeout (0 in the config). */
  readonly timeoutMs: number | null;
  /** `continue_on_listener_filters_timeout`, default false (the connection is closed). */
  readonly continueOnTimeout: boolean;
}

/** `envoy.config.listener.v3.FilterChain`. */
export interface FilterChain {
  readonly name: string;
  readonly filters: readonly NetworkFilter[];
  /** `filter_chain_match`; absent = matches everything. */
  readonly match?: FilterChainMatch;
  /** `transport_socket` `envoy.transport_sockets.tls`; absent = plain TCP (raw_buffer). */
  readonly transportSocket?: DownstreamTlsContext;
  /** `transport_socket_connect_timeout`: how long the TLS handshake may take; absent = no limit. */
  readonly transportSocketConnectTimeoutMs?: number;
}

/** `envoy.config.core.v3.CidrRange`; the address is normalized (IPv4 stays dotted, IPv6 expanded lower-case). */
export interface CidrRange {
  readonly addressPrefix: string;
  readonly prefixLen: number;
}

/** `envoy.config.listener.v3.FilterChainMatch`; empty lists / null mean "any". */
export interface FilterChainMatch {
  readonly destinationPort: number | null;
  readonly prefixRanges: readonly CidrRange[];
  /** Lower-cased; exact names or `*.suffix` wildcards. */
  readonly serverNames: readonly string[];
  /** '' (any), 'tls' or 'raw_buffer'. */
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly sourcePrefixRanges: readonly CidrRange[];
  readonly sourcePorts: readonly number[];
}

// ---------------------------------------------------------------------------------------
// TLS (envoy.extensions.transport_sockets.tls.v3)

/** `envoy.config.core.v3.DataSource` holding TLS material. Files are read (and watched) at run time. */
export type DataSource =
  | { readonly kind: 'filename'; readonly path: string }
  | { readonly kind: 'inline'; readonly value: Buffer };

/** `TlsCertificate`: a PEM certificate chain and its PEM private key. */
export interface TlsCertificate {
  readonly certificateChain: DataSource;
  readonly privateKey: DataSource;
}

/** `SubjectAltNameMatcher`. */
export interface SanMatcher {
  readonly sanType: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';
  readonly matcher: StringMatcher;
}

/** `CertificateValidationContext` (the subset Weft implements). */
export interface CertificateValidation {
  /** PEM CA bundle; null = the peer's certificate is not verified. */
  readonly trustedCa: DataSource | null;
  /** `match_typed_subject_alt_names`: the peer must have a SAN matching one of these; empty = any. */
  readonly matchTypedSubjectAltNames: readonly SanMatcher[];
}

export type TlsVersion = 'TLS_AUTO' | 'TLSv1_2' | 'TLSv1_3';

/** `TlsParameters`. */
export interface TlsParams {
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /** OpenSSL/BoringSSL names of TLS 1.2 cipher suites; empty = the defaults. */
  readonly cipherSuites: readonly string[];
  /** Curve names (X25519, P-256, P-384, P-521); empty = the defaults. */
  readonly ecdhCurves: readonly string[];
}

/** `CommonTlsContext`. */
export interface CommonTlsContext {
  readonly tlsCertificates: readonly TlsCertificate[];
  readonly validationContext: CertificateValidation | null;
  readonly tlsParams: TlsParams;
  readonly alpnProtocols: readonly string[];
}

/** `DownstreamTlsContext`. */
export interface DownstreamTlsContext {
  readonly commonTlsContext: CommonTlsContext;
  readonly requireClientCertificate: boolean;
}

/** `UpstreamTlsContext`. */
export interface UpstreamTlsContext {
  readonly commonTlsContext: CommonTlsContext;
  /** `sni`; '' = no SNI sent. */
  readonly sni: string;
}

export type NetworkFilter =
  | {
      readonly kind: 'http_connection_manager';
      readonly name: string;
      readonly config: HttpConnectionManager;
    }
  | { readonly kind: 'tcp_proxy'; readonly name: string; readonly config: TcpProxy }
  /** Non-terminal: closes connections over its rate before the terminal filter sees them. */
  | { readonly kind: 'local_ratelimit'; readonly name: string; readonly config: NetworkLocalRateLimit };

/** The filter that ends a chain (the last one). */
export type TerminalNetworkFilter = Exclude<NetworkFilter, { readonly kind: 'local_ratelimit' }>;

/** `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`. */
export interface TcpProxy {
  readonly statPrefix: string;
  /** `cluster`; '' when `weightedClusters` is set. */
  readonly cluster: string;
  /** `weighted_clusters.clusters`: one cluster per connection, picked by weight. */
  readonly weightedClusters?: readonly { readonly name: string; readonly weight: number }[];
  /** Idle timeout; Envoy's default is 1 hour; 0 disables (null). */
  readonly idleTimeoutMs: number | null;
  readonly accessLog: readonly AccessLog[];
}

/** `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`. */
export interface HttpConnectionManager {
  readonly statPrefix: string;
  readonly codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  /**
   * The inline `route_config`. With `rds` set, a placeholder (no virtual hosts, named after
   * `rds.routeConfigName`): the routes come from RDS and are swapped in place.
   */
  readonly routeConfig: RouteConfiguration;
  /** `rds: {route_config_name, config_source: {ads: {}}}`, or null for an inline route_config. */
  readonly rds: { readonly routeConfigName: string } | null;
  /** Ordered; the last one is always `envoy.filters.http.router`. */
  readonly httpFilters: readonly HttpFilter[];
  readonly accessLog: readonly AccessLog[];
  /** `max_request_headers_kb`, default 60. Applies to the whole request head. */
  readonly maxRequestHeadersKb: number;
  /** `common_http_protocol_options.max_headers_count`, default 100. */
  readonly maxHeadersCount: number;
  /** `common_http_protocol_options.idle_timeout` for downstream connections, default 1h; null = off. */
  readonly idleTimeoutMs: number | null;
  /** `request_headers_timeout`; null = off (Envoy default). */
  readonly requestHeadersTimeoutMs: number | null;
  /** `request_timeout`: the whole request must arrive within it (408 otherwise); absent = off (Envoy's default). */
  readonly requestTimeoutMs?: number;
  /**
   * `stream_idle_timeout`: a stream with no bytes in either direction for this long is
   * ended (408 SI before the response, a reset after); absent = Envoy's default 5 min;
   * null = off (0 in the config). A route's `idle_timeout` overrides it.
   */
  readonly streamIdleTimeoutMs?: number | null;
  /** `common_http_protocol_options.max_connection_duration`: then the connection is drained; absent = none. */
  readonly maxConnectionDurationMs?: number;
  /** `common_http_protocol_options.max_stream_duration`: a stream's whole life (408 DT); absent = none. */
  readonly maxStreamDurationMs?: number;
  /** `drain_timeout`, default 5000 ms. */
  readonly drainTimeoutMs: number;
  /** `use_remote_address`, default false. */
  readonly useRemoteAddress: boolean;
  /** `xff_num_trusted_hops`, default 0: proxies in front whose x-forwarded-for entries are trusted. */
  readonly xffNumTrustedHops: number;
  /** `skip_xff_append`, default false: with use_remote_address, do not append the peer to XFF. */
  readonly skipXffAppend: boolean;
  /**
   * `original_ip_detection_extensions`, tried in order for the trusted client address
   * (never with use_remote_address or xff_num_trusted_hops); absent = Envoy's XFF rules.
   */
  readonly originalIpDetection?: readonly OriginalIpDetection[];
  /**
   * `internal_address_config.cidr_ranges`: the addresses that count as internal; null (no
   * internal_address_config) = RFC 1918, loopback and RFC 4193 unique-local addresses.
   */
  readonly internalAddressRanges: readonly CidrRange[] | null;
  /** `generate_request_id`, default true. */
  readonly generateRequestId: boolean;
  /** `preserve_external_request_id`, default false. */
  readonly preserveExternalRequestId: boolean;
  /**
   * `common_http_protocol_options.headers_with_underscores_action`: what a request header
   * whose name has `_` gets; absent = ALLOW.
   */
  readonly headersWithUnderscores?: 'REJECT_REQUEST' | 'DROP_HEADER';
  /**
   * `normalize_path`, `merge_slashes` and `path_with_escaped_slashes_action`; absent = the
   * path is routed as it came (Envoy's defaults).
   */
  readonly pathNormalization?: {
    readonly normalizePath: boolean;
    readonly mergeSlashes: boolean;
    readonly escapedSlashes:
      | 'KEEP_UNCHANGED'
      | 'REJECT_REQUEST'
      | 'UNESCAPE_AND_REDIRECT'
      | 'UNESCAPE_AND_FORWARD';
  };
  /** `via`: appended to the `via` header of requests and responses; absent = none. */
  readonly via?: string;
  /** `forward_client_cert_details`: what happens to x-forwarded-client-cert; absent = SANITIZE. */
  readonly forwardClientCert?: ForwardClientCert;
  /** `server_name`, default "envoy" in Envoy; Weft uses "weft". */
  readonly serverName: string;
  /** `server_header_transformation`. */
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** `http_protocol_options.accept_http_10`, default false. */
  readonly acceptHttp10: boolean;
  /** `http2_protocol_options` for HTTP/2 downstream connections (Envoy defaults when absent). */
  readonly http2Options?: Http2Options;
  /** `upgrade_configs`: the upgrade types (websocket, CONNECT...) this HCM may proxy; absent = none. */
  readonly upgradeConfigs?: readonly UpgradeConfig[];
}

/** `HttpConnectionManager.UpgradeConfig` (without custom `filters`). */
export interface UpgradeConfig {
  /** `upgrade_type`, lower-cased (`websocket`; `connect` for CONNECT requests). */
  readonly upgradeType: string;
  /** `enabled`, default true; a route's own upgrade_configs entry overrides it. */
  readonly enabled: boolean;
}

/** `RouteAction.UpgradeConfig`. */
export interface RouteUpgradeConfig {
  /** `upgrade_type`, lower-cased. */
  readonly upgradeType: string;
  /** `enabled`, default true. */
  readonly enabled: boolean;
  /** `connect_config` is present (CONNECT only): the proxy terminates CONNECT and opens TCP to the cluster. */
  readonly terminateConnect: boolean;
}

/** `envoy.config.core.v3.Http2ProtocolOptions` (the supported subset). */
export interface Http2Options {
  /** `hpack_table_size`, default 4096. */
  readonly hpackTableSize: number;
  /** `max_concurrent_streams`, default 2147483647. */
  readonly maxConcurrentStreams: number;
  /** `initial_stream_window_size`, default 256 MiB, range 65535..2^31-1. */
  readonly initialStreamWindowSize: number;
  /** `initial_connection_window_size`, default 256 MiB, range 65535..2^31-1. */
  readonly initialConnectionWindowSize: number;
  /** `allow_connect`: downstream, advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441). */
  readonly allowConnect: boolean;
}

/** An HTTP filter in the chain. */
export interface HttpFilter {
  readonly name: string;
  /** The `@type` of its typed_config, e.g. `type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`. */
  readonly typeUrl: string;
  /** Filter-specific validated config (the filter factory's own type). */
  readonly config: unknown;
}

/**
 * One `typed_per_filter_config` value: a filter's per-route config, validated by the
 * filter's per-route validator (`envoy.config.route.v3.FilterConfig` unwrapped).
 */
export interface PerFilterConfig {
  /** The per-route config's `@type`; '' when a FilterConfig only disables the filter. */
  readonly typeUrl: string;
  /** The filter's validated per-route config (its own type); null when only disabled. */
  readonly config: unknown;
  /** `FilterConfig.disabled`: the filter does nothing for requests on this route. */
  readonly disabled: boolean;
}

/** `typed_per_filter_config`: by HTTP filter name. */
export type TypedPerFilterConfig = Readonly<Record<string, PerFilterConfig>>;

// ---------------------------------------------------------------------------------------
// Routes

/** `envoy.config.core.v3.HeaderValueOption`. */
export interface HeaderValueOption {
  /** Lower-cased header name. */
  readonly key: string;
  /** May contain `%OPERATOR%` substitutions, as Envoy allows in custom headers. */
  readonly value: string;
  readonly appendAction:
    | 'APPEND_IF_EXISTS_OR_ADD'
    | 'ADD_IF_ABSENT'
    | 'OVERWRITE_IF_EXISTS_OR_ADD'
    | 'OVERWRITE_IF_EXISTS';
  /** `keep_empty_value`, default false: an empty result removes nothing and adds nothing. */
  readonly keepEmptyValue: boolean;
}

/** Header mutations shared by route configs, virtual hosts, routes and weighted clusters. */
export interface HeaderMutations {
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  /** Lower-cased names. */
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  readonly responseHeadersToRemove: readonly string[];
}

/** `envoy.config.route.v3.RouteConfiguration`. */
export interface RouteConfiguration extends HeaderMutations {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHost[];
  /** `internal_only_headers` (lower-cased): removed from every request that is not internal. */
  readonly internalOnlyHeaders?: readonly string[];
}

/** `envoy.config.route.v3.VirtualHost`. */
export interface VirtualHost extends HeaderMutations {
  readonly name: string;
  /** Lower-cased; exact, `*.suffix`, `prefix.*` or `*`. */
  readonly domains: readonly string[];
  readonly routes: readonly Route[];
  /** `retry_policy` for routes that have none; null = no retries. */
  readonly retryPolicy?: RetryPolicy | null;
  /** `per_request_buffer_limit_bytes` for routes that set none; null = the listener's limit. */
  readonly perRequestBufferLimitBytes?: number | null;
  /** `typed_per_filter_config` for routes that set none for the same filter. */
  readonly typedPerFilterConfig?: TypedPerFilterConfig;
  /** `require_tls`: requests not over TLS (all, or external ones) get a 301 to https; absent = NONE. */
  readonly requireTls?: 'EXTERNAL_ONLY' | 'ALL';
  /** `include_request_attempt_count`: x-envoy-attempt-count upstream on every route (not only retrying ones). */
  readonly includeRequestAttemptCount?: true;
  /** `include_attempt_count_in_response`: x-envoy-attempt-count on the response downstream. */
  readonly includeAttemptCountInResponse?: true;
}

/** `envoy.type.matcher.v3.StringMatcher`. */
export type StringMatcher =
  | {
      readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains';
      readonly value: string;
      readonly ignoreCase: boolean;
    }
  /** RE2 syntax in Envoy; Weft accepts the subset that JavaScript RegExp gives the same meaning. Full match. */
  | { readonly kind: 'safe_regex'; readonly regex: string };

/** `envoy.config.route.v3.HeaderMatcher`. */
export interface HeaderMatcher {
  /** Lower-cased; `:authority`, `:method`, `:path`, `:scheme` are the pseudo-headers. */
  readonly name: string;
  readonly invertMatch: boolean;
  /** `treat_missing_header_as_empty`, default false. */
  readonly treatMissingHeaderAsEmpty: boolean;
  readonly match:
    | { readonly kind: 'string'; readonly matcher: StringMatcher }
    | { readonly kind: 'present'; readonly present: boolean }
    /** `range_match`: integer value in [start, end). */
    | { readonly kind: 'range'; readonly start: number; readonly end: number };
}

/**
 * `forward_client_cert_details` with `set_current_client_cert_details` (what SANITIZE_SET
 * and APPEND_FORWARD put in x-forwarded-client-cert besides `By` and `Hash`).
 */
export interface ForwardClientCert {
  readonly mode: 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';
  readonly subject: boolean;
  readonly cert: boolean;
  readonly chain: boolean;
  readonly dns: boolean;
  readonly uri: boolean;
}

/** One `original_ip_detection_extensions` entry. */
export type OriginalIpDetection =
  /** `envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig`. */
  | {
      readonly kind: 'custom_header';
      /** `header_name`, lower-cased. */
      readonly headerName: string;
      /** `allow_extension_to_set_address_as_trusted`: the address may make the request internal. */
      readonly trusted: boolean;
      /** `reject_with_status`: answer this when the header is missing or not an IP (codes below 400 become 403). */
      readonly rejectStatus: number | null;
    }
  /** `envoy.extensions.http.original_ip_detection.xff.v3.XffConfig`. */
  | { readonly kind: 'xff'; readonly xffNumTrustedHops: number };

/** `envoy.type.v3.FractionalPercent`: `numerator` out of `denominator` (100, 10000 or 1000000). */
export interface FractionalPercent {
  readonly numerator: number;
  readonly denominator: number;
}

/** `envoy.type.v3.TokenBucket`. */
export interface TokenBucket {
  /** `max_tokens` (> 0): the bucket's size, and its content at start. */
  readonly maxTokens: number;
  /** `tokens_per_fill`, default 1. */
  readonly tokensPerFill: number;
  /** `fill_interval` in ms (>= 50 ms, as Envoy requires). */
  readonly fillIntervalMs: number;
}

/** `envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit` (filter-level or per-route). */
export interface HttpLocalRateLimit {
  readonly statPrefix: string;
  /** null: no bucket, requests are never limited. */
  readonly tokenBucket: TokenBucket | null;
  /** `filter_enabled.default_value`; 0% when absent (Envoy's default). */
  readonly filterEnabled: FractionalPercent;
  /** `filter_enforced.default_value`; 0% when absent. */
  readonly filterEnforced: FractionalPercent;
  /** `status.code`, default 429. */
  readonly status: number;
  /** Added to the rate-limited (local) response. Literal values. */
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  /** Added to requests that were over the limit but not enforced. Literal values. */
  readonly requestHeadersToAddWhenNotEnforced: readonly HeaderValueOption[];
  /** `enable_x_ratelimit_headers: DRAFT_VERSION_03`: x-ratelimit-limit/-remaining/-reset on responses. */
  readonly xRateLimitHeaders: boolean;
  /** `local_rate_limit_per_downstream_connection`: one bucket per downstream connection. */
  readonly perDownstreamConnection: boolean;
}

/** `envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit`. */
export interface NetworkLocalRateLimit {
  readonly statPrefix: string;
  readonly tokenBucket: TokenBucket;
  /** `runtime_enabled.default_value`, default true: false turns the filter off. */
  readonly enabled: boolean;
}

/** `envoy.extensions.filters.common.fault.v3.FaultDelay`. */
export interface FaultDelay {
  /** `fixed_delay` in ms; null with `header_delay` (the request's x-envoy-fault-delay-request). */
  readonly fixedDelayMs: number | null;
  readonly percentage: FractionalPercent;
}

/** `envoy.extensions.filters.http.fault.v3.FaultAbort`. */
export interface FaultAbort {
  /** `http_status` (200-599), `grpc_status`, or `header_abort` (the request's x-envoy-fault-abort-* headers). */
  readonly kind: 'http' | 'grpc' | 'header';
  /** The status of kind 'http' (else 0). */
  readonly httpStatus: number;
  /** The gRPC status of kind 'grpc' (else 0). */
  readonly grpcStatus: number;
  readonly percentage: FractionalPercent;
}

/** Validated `envoy.extensions.filters.http.fault.v3.HTTPFault`. */
export interface HttpFault {
  readonly delay: FaultDelay | null;
  readonly abort: FaultAbort | null;
  /** Faults apply only to requests matching every one of these. */
  readonly headers: readonly HeaderMatcher[];
  /** Faults apply only when the routed cluster is this one; '' for any. */
  readonly upstreamCluster: string;
  /** `max_active_faults`; null = unlimited (Envoy's default). */
  readonly maxActiveFaults: number | null;
}

/** `envoy.config.route.v3.QueryParameterMatcher`. */
export interface QueryParameterMatcher {
  readonly name: string;
  readonly match: { readonly kind: 'string'; readonly matcher: StringMatcher } | { readonly kind: 'present' };
}

/** `envoy.config.route.v3.RouteMatch`. */
export interface RouteMatch {
  readonly path:
    | { readonly kind: 'prefix'; readonly value: string }
    | { readonly kind: 'path'; readonly value: string }
    | { readonly kind: 'safe_regex'; readonly regex: string }
    /** `connect_matcher: {}`: matches CONNECT requests only (and only these match CONNECT). */
    | { readonly kind: 'connect' };
  /** Default true; applies to prefix and path. */
  readonly caseSensitive: boolean;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParameters: readonly QueryParameterMatcher[];
}

/** `envoy.config.route.v3.WeightedCluster.ClusterWeight`. */
export interface ClusterWeight extends HeaderMutations {
  readonly name: string;
  readonly weight: number;
  /** `typed_per_filter_config` for requests sent to this cluster (beats the route's). */
  readonly typedPerFilterConfig?: TypedPerFilterConfig;
}

/** `envoy.config.route.v3.RouteAction.HashPolicy`: one input of the request hash (RING_HASH, MAGLEV). */
export type HashPolicy = (
  | /** `header.header_name`, lower-cased (`:authority`, `:path`, `:method` allowed). */
  { readonly kind: 'header'; readonly headerName: string }
  /** `cookie`: with `ttl`, a missing cookie is generated and set on the response. */
  | { readonly kind: 'cookie'; readonly name: string; readonly ttlMs: number | null; readonly path: string }
  /** `connection_properties.source_ip: true`. */
  | { readonly kind: 'source_ip' }
  /** `query_parameter.name`. */
  | { readonly kind: 'query_parameter'; readonly name: string }
) & {
  /** `terminal`: once this input produced a hash, the later ones are skipped. */
  readonly terminal: boolean;
};

/** `envoy.config.route.v3.RouteAction` (the proxy-core subset). */
export interface RouteAction {
  readonly kind: 'route';
  readonly cluster:
    | { readonly kind: 'cluster'; readonly name: string }
    | {
        readonly kind: 'weighted';
        readonly clusters: readonly ClusterWeight[];
        readonly totalWeight: number;
      };
  /** `timeout`, default 15 s; 0 disables (null). */
  readonly timeoutMs: number | null;
  readonly prefixRewrite: string | null;
  readonly hostRewriteLiteral: string | null;
  /** `retry_policy`; null (or absent in hand-built fixtures) = the virtual host's, if any. */
  readonly retryPolicy?: RetryPolicy | null;
  /** `auto_host_rewrite`: Host becomes the chosen upstream host's DNS name (STRICT_DNS/LOGICAL_DNS); set only when true. */
  readonly autoHostRewrite?: boolean;
  /** `regex_rewrite` {pattern.regex (RE2 subset), substitution (`\\1` groups)}; set only when given. */
  readonly regexRewrite?: { readonly regex: string; readonly substitution: string };
  /** `hash_policy`, set only when given. */
  readonly hashPolicy?: readonly HashPolicy[];
  /** `request_mirror_policies`; absent = none. */
  readonly requestMirrorPolicies?: readonly RequestMirrorPolicy[];
  /** `max_stream_duration`; absent when not configured. */
  readonly maxStreamDuration?: MaxStreamDuration;
  /** `upgrade_configs`: per-route overrides of the HCM's upgrade_configs; absent = none. */
  readonly upgradeConfigs?: readonly RouteUpgradeConfig[];
  /** `idle_timeout`: overrides the HCM's stream_idle_timeout for this route; null = off (0); absent = the HCM's. */
  readonly idleTimeoutMs?: number | null;
}

/** `envoy.config.route.v3.RouteAction.RequestMirrorPolicy`. */
export interface RequestMirrorPolicy {
  /** `cluster`: the mirror cluster; '' when `clusterHeader` names it per request. */
  readonly cluster: string;
  /** `cluster_header` (lower-cased): the request header naming the mirror cluster; '' = none. */
  readonly clusterHeader: string;
  /** `runtime_fraction.default_value`; 100% when absent. */
  readonly fraction: FractionalPercent;
  /** `disable_shadow_host_suffix_append`, default false. */
  readonly disableShadowHostSuffixAppend: boolean;
}

/** `envoy.config.route.v3.RouteAction.MaxStreamDuration`. */
export interface MaxStreamDuration {
  /** `max_stream_duration`: the whole stream's limit from its start; null = none. */
  readonly maxStreamDurationMs: number | null;
  /**
   * `grpc_timeout_header_max`: when set, a request's `grpc-timeout` header becomes its
   * route timeout, capped at this value (0 = no cap); null = grpc-timeout is not used.
   */
  readonly grpcTimeoutHeaderMaxMs: number | null;
  /** `grpc_timeout_header_offset`: subtracted from the grpc-timeout value; 0 when absent. */
  readonly grpcTimeoutHeaderOffsetMs: number;
  /** `max_stream_duration` was given (0 included): it replaces the HCM's max_stream_duration; absent = not given. */
  readonly overridesConnectionManager?: true;
}

/**
 * `retry_on` conditions Weft understands (envoy.config.route.v3.RetryPolicy, router filter
 * docs "x-envoy-retry-on" and "x-envoy-retry-grpc-on").
 */
export type RetryOn =
  | '5xx'
  | 'gateway-error'
  | 'reset'
  | 'connect-failure'
  | 'retriable-4xx'
  | 'refused-stream'
  | 'reset-before-request'
  | 'envoy-ratelimited'
  | 'retriable-status-codes'
  | 'retriable-headers'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'internal'
  | 'resource-exhausted'
  | 'unavailable';

/**
 * `envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff`: a retried response that says
 * when to come back (Retry-After, X-RateLimit-Reset) is retried then instead.
 */
export interface RateLimitedRetryBackOff {
  /** `reset_headers` in order: `name` (lower-cased) and `format` (default SECONDS). */
  readonly resetHeaders: readonly { readonly name: string; readonly format: 'SECONDS' | 'UNIX_TIMESTAMP' }[];
  /** `max_interval`, default 300 s: a longer interval is skipped (the next header is tried). */
  readonly maxIntervalMs: number;
}

/** `envoy.config.route.v3.RetryPolicy` (route or virtual host). */
export interface RetryPolicy {
  /** Conditions from the comma-separated `retry_on`, de-duplicated. */
  readonly retryOn: readonly RetryOn[];
  /** `num_retries`, default 1. */
  readonly numRetries: number;
  /** `per_try_timeout`; null = none (the route timeout bounds all attempts). */
  readonly perTryTimeoutMs: number | null;
  /** `per_try_idle_timeout`: an attempt with no response bytes for this long is abandoned; absent = none. */
  readonly perTryIdleTimeoutMs?: number;
  /** `retry_back_off.base_interval`, default 25 ms. */
  readonly baseIntervalMs: number;
  /** `retry_back_off.max_interval`, default 10 x base. */
  readonly maxIntervalMs: number;
  /** `retriable_status_codes`, for `retriable-status-codes`. */
  readonly retriableStatusCodes: readonly number[];
  /** `retriable_headers`, for `retriable-headers` (matched against response headers). */
  readonly retriableHeaders: readonly HeaderMatcher[];
  /**
   * `retriable_request_headers`: when not empty, only a request matching one of them is
   * retried (its per-try timeout still applies); absent = every request.
   */
  readonly retriableRequestHeaders?: readonly HeaderMatcher[];
  /** `rate_limited_retry_back_off`: absent = the exponential back-off always. */
  readonly rateLimitedRetryBackOff?: RateLimitedRetryBackOff;
  /** `retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]`. */
  readonly previousHostsPredicate: boolean;
  /** `host_selection_retry_max_attempts`, default 1 (Envoy's). */
  readonly hostSelectionRetryMaxAttempts: number;
}

/** `envoy.config.route.v3.RedirectAction`. */
export interface RedirectAction {
  readonly kind: 'redirect';
  /** `https_redirect: true` is normalized to `schemeRedirect: 'https'`. */
  readonly schemeRedirect: string | null;
  readonly hostRedirect: string | null;
  readonly portRedirect: number | null;
  readonly pathRedirect: string | null;
  readonly prefixRewrite: string | null;
  /** MOVED_PERMANENTLY=301 (default), FOUND=302, SEE_OTHER=303, TEMPORARY_REDIRECT=307, PERMANENT_REDIRECT=308. */
  readonly responseCode: 301 | 302 | 303 | 307 | 308;
  readonly stripQuery: boolean;
}

/** `envoy.config.route.v3.DirectResponseAction`. */
export interface DirectResponseAction {
  readonly kind: 'direct_response';
  readonly status: number;
  /** From `body.inline_string`, `body.inline_bytes` (base64) or `body.filename` (read at load). */
  readonly body: Buffer | null;
}

/** `envoy.config.route.v3.Route`. */
export interface Route extends HeaderMutations {
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteAction | RedirectAction | DirectResponseAction;
  /** `per_request_buffer_limit_bytes`: request body kept for retries; null = the virtual host's. */
  readonly perRequestBufferLimitBytes?: number | null;
  /** `typed_per_filter_config` (beats the virtual host's for the same filter). */
  readonly typedPerFilterConfig?: TypedPerFilterConfig;
}

// ---------------------------------------------------------------------------------------
// Access logs

/**
 * `envoy.config.accesslog.v3.AccessLogFilter`: which requests an access log records.
 * `comparison` is ComparisonFilter (`op` with `value.default_value`; Weft has no runtime).
 */
export type AccessLogFilter =
  | { readonly kind: 'status_code'; readonly op: ComparisonOp; readonly value: number }
  | { readonly kind: 'duration'; readonly op: ComparisonOp; readonly value: number }
  | { readonly kind: 'not_health_check' }
  | { readonly kind: 'runtime'; readonly percent: FractionalPercent; readonly independentRandomness: boolean }
  | { readonly kind: 'and' | 'or'; readonly filters: readonly AccessLogFilter[] }
  | { readonly kind: 'header'; readonly header: HeaderMatcher }
  /** `flags`: short codes (`UH`, `UT`...); empty = any flag set. */
  | { readonly kind: 'response_flag'; readonly flags: readonly string[] }
  /** `statuses`: gRPC status codes (numbers). */
  | { readonly kind: 'grpc_status'; readonly statuses: readonly number[]; readonly exclude: boolean };

export type ComparisonOp = 'EQ' | 'GE' | 'LE' | 'NE';

/** `envoy.config.accesslog.v3.AccessLog` with a stdout/stderr/file logger. */
export interface AccessLog {
  readonly name: string;
  /** `filter`: absent = every request is logged. */
  readonly filter?: AccessLogFilter;
  readonly sink:
    | { readonly kind: 'stdout' }
    | { readonly kind: 'stderr' }
    | { readonly kind: 'file'; readonly path: string };
  /**
   * `log_format` (SubstitutionFormatString) or the file logger's legacy `format`/`json_format`.
   * Text with no format given is Envoy's default format.
   */
  readonly format:
    | { readonly kind: 'text'; readonly format: string }
    | {
        readonly kind: 'json';
        readonly json: Readonly<Record<string, unknown>>;
        readonly omitEmptyValues: boolean;
      };
}

// ---------------------------------------------------------------------------------------
// Clusters

/** `envoy.config.endpoint.v3.LbEndpoint`. */
export interface LbEndpoint {
  readonly address: SocketAddress;
  /** `load_balancing_weight`, default 1. */
  readonly loadBalancingWeight: number;
  readonly healthStatus: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';
}

/** `envoy.config.endpoint.v3.LocalityLbEndpoints`. */
export interface LocalityLbEndpoints {
  readonly locality: Locality | null;
  readonly lbEndpoints: readonly LbEndpoint[];
  readonly loadBalancingWeight: number | null;
  readonly priority: number;
}

/** `envoy.config.endpoint.v3.ClusterLoadAssignment`. */
export interface ClusterLoadAssignment {
  readonly clusterName: string;
  readonly endpoints: readonly LocalityLbEndpoints[];
  /** `policy.overprovisioning_factor` in percent, default 140 (absent in hand-built fixtures). */
  readonly overprovisioningFactor?: number;
}

/** `envoy.config.cluster.v3.Cluster.LbPolicy` values Weft implements. */
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

/** The cluster's load-balancer settings (policy-specific configs and `common_lb_config`). */
export interface ClusterLbConfig {
  /** `least_request_lb_config`: choice_count (default 2), active_request_bias.default_value (default 1). */
  readonly leastRequest: { readonly choiceCount: number; readonly activeRequestBias: number };
  /** `ring_hash_lb_config`: minimum_ring_size (default 1024), maximum_ring_size (default 8M). */
  readonly ringHash: { readonly minimumRingSize: number; readonly maximumRingSize: number };
  /** `maglev_lb_config.table_size`, a prime, default 65537. */
  readonly maglevTableSize: number;
  /** `common_lb_config.healthy_panic_threshold` in percent, default 50; 0 disables panic mode. */
  readonly healthyPanicThresholdPercent: number;
  /** `common_lb_config.locality_weighted_lb_config` is set. */
  readonly localityWeighted: boolean;
  /** `common_lb_config.zone_aware_lb_config`, or null when not set. */
  /**
   * `round_robin_lb_config.slow_start_config` / `least_request_lb_config.slow_start_config`,
   * or null (absent in configs built before slow start existed = null).
   */
  readonly slowStart?: {
    /** `slow_start_window`. */
    readonly windowMs: number;
    /** `aggression.default_value`, default 1.0. */
    readonly aggression: number;
    /** `min_weight_percent`, default 10. */
    readonly minWeightPercent: number;
  } | null;
  readonly zoneAware: {
    /** `routing_enabled` in percent, default 100. */
    readonly routingEnabledPercent: number;
    /** `min_cluster_size`, default 6. */
    readonly minClusterSize: number;
  } | null;
}

/** `envoy.config.cluster.v3.Cluster` (the proxy-core subset). */
export interface Cluster {
  readonly name: string;
  readonly type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS';
  /**
   * EDS clusters: `eds_cluster_config.service_name` (default: the cluster name), the name
   * of the ClusterLoadAssignment to subscribe to. Null (or absent, in hand-built test
   * fixtures) for other types.
   */
  readonly edsServiceName?: string | null;
  /**
   * The upstream protocol: HTTP/1.1, or HTTP/2 when `http2_protocol_options` (or the
   * HttpProtocolOptions extension's `explicit_http_config.http2_protocol_options`) is set.
   * HTTP/2 is accepted only for the cluster the xDS gRPC client uses (grpc-js speaks it).
   * Absent means false.
   */
  readonly http2?: boolean;
  /**
   * The upstream protocol of the data plane's pools: HTTP1 (default; also `auto_config`
   * on a plaintext cluster), HTTP2 (`explicit_http_config.http2_protocol_options` or the
   * deprecated `http2_protocol_options`), USE_DOWNSTREAM (`use_downstream_protocol_config`),
   * AUTO (`auto_config` on a TLS cluster: HTTP/2 or HTTP/1.1 as ALPN negotiates).
   */
  readonly httpProtocol?: 'HTTP1' | 'HTTP2' | 'USE_DOWNSTREAM' | 'AUTO';
  /** The cluster's `http2_protocol_options` (Envoy defaults when absent). */
  readonly http2Options?: Http2Options;
  /** `connect_timeout`, default 5 s. */
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicy;
  /** Load-balancer settings; absent (only when no lb field was given) = Envoy's defaults. */
  readonly lbConfig?: ClusterLbConfig;
  /** Inline endpoints; empty for EDS clusters (their endpoints arrive over EDS). */
  readonly loadAssignment: ClusterLoadAssignment;
  /** `dns_refresh_rate`, default 5 s. */
  readonly dnsRefreshRateMs: number;
  /** `dns_lookup_family`, default AUTO (v6 preferred, then v4, as Envoy). */
  readonly dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  /** `per_connection_buffer_limit_bytes`, default 1 MiB. */
  readonly perConnectionBufferLimitBytes: number;
  /** `common_http_protocol_options.idle_timeout` for pooled upstream connections, default 1 h; null = off. */
  readonly idleTimeoutMs: number | null;
  /** `common_http_protocol_options.max_requests_per_connection`; null = unlimited. */
  readonly maxRequestsPerConnection: number | null;
  /** `common_http_protocol_options.max_connection_duration`: pooled connections are retired after it; absent = none. */
  readonly maxConnectionDurationMs?: number;
  /** `circuit_breakers.thresholds[priority DEFAULT]`; absent = Envoy's defaults plus Weft's default retry budget. */
  readonly circuitBreakers?: CircuitBreakerThresholds;
  /** `health_checks` (active health checking); absent = none. */
  readonly healthChecks?: readonly HealthCheck[];
  /** `outlier_detection` (passive health checking); absent = off. */
  readonly outlierDetection?: OutlierDetection;
  /** `transport_socket` `envoy.transport_sockets.tls`; absent = plain TCP. */
  readonly transportSocket?: UpstreamTlsContext;
}

/** `envoy.config.cluster.v3.CircuitBreakers.Thresholds` for priority DEFAULT. */
export interface CircuitBreakerThresholds {
  /** `max_connections`, default 1024. */
  readonly maxConnections: number;
  /** `max_pending_requests`, default 1024. */
  readonly maxPendingRequests: number;
  /** `max_requests`, default 1024. */
  readonly maxRequests: number;
  /** `max_retries`, default 3; not used when a retry budget applies. */
  readonly maxRetries: number;
  /**
   * `retry_budget`. Weft's default when no threshold sets `max_retries` or `retry_budget`:
   * 20% / 3, so retries can never multiply an outage. null = `max_retries` applies.
   */
  readonly retryBudget: { readonly budgetPercent: number; readonly minRetryConcurrency: number } | null;
}

/** `envoy.config.core.v3.HealthCheck` (durations in ms). */
export interface HealthCheck {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly initialJitterMs: number;
  readonly intervalJitterMs: number;
  readonly intervalJitterPercent: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  /** `reuse_connection`, default true: one connection per host kept across checks. */
  readonly reuseConnection: boolean;
  /** `no_traffic_interval`, default 60 s: the interval while the cluster has had no traffic. */
  readonly noTrafficIntervalMs: number;
  /** `no_traffic_healthy_interval`, default no_traffic_interval. */
  readonly noTrafficHealthyIntervalMs: number;
  /** `unhealthy_interval`, default interval. */
  readonly unhealthyIntervalMs: number;
  /** `unhealthy_edge_interval`, default unhealthy_interval. */
  readonly unhealthyEdgeIntervalMs: number;
  /** `healthy_edge_interval`, default interval. */
  readonly healthyEdgeIntervalMs: number;
  readonly alwaysLogHealthCheckFailures: boolean;
  readonly checker: HttpHealthCheck | TcpHealthCheck | GrpcHealthCheck;
}

/** `envoy.type.v3.Int64Range`: [start, end). */
export interface Int64Range {
  readonly start: number;
  readonly end: number;
}

export interface HttpHealthCheck {
  readonly kind: 'http';
  /** `host`; '' = the cluster name (Envoy). */
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly expectedStatuses: readonly Int64Range[];
  readonly retriableStatuses: readonly Int64Range[];
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  readonly requestHeadersToRemove: readonly string[];
}

export interface TcpHealthCheck {
  readonly kind: 'tcp';
  /** Bytes to send after connecting; null = none. */
  readonly send: Buffer | null;
  /** Blocks expected in order (fuzzy: each anywhere after the previous); empty = connect only. */
  readonly receive: readonly Buffer[];
}

export interface GrpcHealthCheck {
  readonly kind: 'grpc';
  readonly serviceName: string;
  /** `authority`; '' = the cluster name. */
  readonly authority: string;
}

/** `envoy.config.cluster.v3.OutlierDetection` (durations in ms, percentages 0-100). */
export interface OutlierDetection {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  readonly enforcingConsecutive5xx: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly enforcingSuccessRate: number;
  readonly enforcingLocalOriginSuccessRate: number;
  readonly enforcingFailurePercentage: number;
  readonly enforcingFailurePercentageLocalOrigin: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** `success_rate_stdev_factor` / 1000 (Envoy's default 1900 → 1.9). */
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly successfulActiveHealthCheckUnejectHost: boolean;
  readonly alwaysEjectOneHost: boolean;
}
