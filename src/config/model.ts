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
}

/** `envoy.config.listener.v3.FilterChain` (matching and transport sockets come with TLS). */
export interface FilterChain {
  readonly name: string;
  readonly filters: readonly NetworkFilter[];
}

export type NetworkFilter =
  | {
      readonly kind: 'http_connection_manager';
      readonly name: string;
      readonly config: HttpConnectionManager;
    }
  | { readonly kind: 'tcp_proxy'; readonly name: string; readonly config: TcpProxy };

/** `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`. */
export interface TcpProxy {
  readonly statPrefix: string;
  readonly cluster: string;
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
  /** `drain_timeout`, default 5000 ms. */
  readonly drainTimeoutMs: number;
  /** `use_remote_address`, default false. */
  readonly useRemoteAddress: boolean;
  /** `xff_num_trusted_hops`, default 0. */
  readonly xffNumTrustedHops: number;
  /** `generate_request_id`, default true. */
  readonly generateRequestId: boolean;
  /** `preserve_external_request_id`, default false. */
  readonly preserveExternalRequestId: boolean;
  /** `server_name`, default "envoy" in Envoy; Weft uses "weft". */
  readonly serverName: string;
  /** `server_header_transformation`. */
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** `http_protocol_options.accept_http_10`, default false. */
  readonly acceptHttp10: boolean;
  /** `http2_protocol_options` for HTTP/2 downstream connections (Envoy defaults when absent). */
  readonly http2Options?: Http2Options;
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
}

/** An HTTP filter in the chain. Only the router exists in the proxy-core issue. */
export interface HttpFilter {
  readonly name: string;
  /** The `@type` of its typed_config, e.g. `type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`. */
  readonly typeUrl: string;
  /** Filter-specific validated config (the filter factory's own type). */
  readonly config: unknown;
}

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

/** `envoy.type.v3.FractionalPercent`: `numerator` out of `denominator` (100, 10000 or 1000000). */
export interface FractionalPercent {
  readonly numerator: number;
  readonly denominator: number;
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
    | { readonly kind: 'safe_regex'; readonly regex: string };
  /** Default true; applies to prefix and path. */
  readonly caseSensitive: boolean;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParameters: readonly QueryParameterMatcher[];
}

/** `envoy.config.route.v3.WeightedCluster.ClusterWeight`. */
export interface ClusterWeight extends HeaderMutations {
  readonly name: string;
  readonly weight: number;
}

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
  /** `max_stream_duration`; absent when not configured. */
  readonly maxStreamDuration?: MaxStreamDuration;
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
  | 'retriable-status-codes'
  | 'retriable-headers'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'internal'
  | 'resource-exhausted'
  | 'unavailable';

/** `envoy.config.route.v3.RetryPolicy` (route or virtual host). */
export interface RetryPolicy {
  /** Conditions from the comma-separated `retry_on`, de-duplicated. */
  readonly retryOn: readonly RetryOn[];
  /** `num_retries`, default 1. */
  readonly numRetries: number;
  /** `per_try_timeout`; null = none (the route timeout bounds all attempts). */
  readonly perTryTimeoutMs: number | null;
  /** `retry_back_off.base_interval`, default 25 ms. */
  readonly baseIntervalMs: number;
  /** `retry_back_off.max_interval`, default 10 x base. */
  readonly maxIntervalMs: number;
  /** `retriable_status_codes`, for `retriable-status-codes`. */
  readonly retriableStatusCodes: readonly number[];
  /** `retriable_headers`, for `retriable-headers` (matched against response headers). */
  readonly retriableHeaders: readonly HeaderMatcher[];
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
}

// ---------------------------------------------------------------------------------------
// Access logs

/** `envoy.config.accesslog.v3.AccessLog` with a stdout/stderr/file logger. */
export interface AccessLog {
  readonly name: string;
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
   * deprecated `http2_protocol_options`), USE_DOWNSTREAM (`use_downstream_protocol_config`).
   */
  readonly httpProtocol?: 'HTTP1' | 'HTTP2' | 'USE_DOWNSTREAM';
  /** The cluster's `http2_protocol_options` (Envoy defaults when absent). */
  readonly http2Options?: Http2Options;
  /** `connect_timeout`, default 5 s. */
  readonly connectTimeoutMs: number;
  readonly lbPolicy: 'ROUND_ROBIN';
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
  /** `circuit_breakers.thresholds[priority DEFAULT]`; absent = Envoy's defaults plus Weft's default retry budget. */
  readonly circuitBreakers?: CircuitBreakerThresholds;
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
