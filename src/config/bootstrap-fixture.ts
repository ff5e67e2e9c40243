// A realistic Envoy v3 bootstrap shared by the config tests (not used at runtime): two
// HTTP clusters chosen by path prefix, a weighted split, a direct response, a redirect,
// a tcp_proxy listener, and a JSON access log.

export const REALISTIC_BOOTSTRAP_YAML = `
node:
  id: web-1
  cluster: web
  locality: { region: eu-west, zone: eu-west-1a }
  metadata: { team: payments }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 15000 }
static_resources:
  listeners:
  - name: http_in
    address:
      socket_address: { address: 0.0.0.0, port_value: 8080 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          use_remote_address: true
          common_http_protocol_options:
            idle_timeout: 300s
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                json_format:
                  status: "%RESPONSE_CODE%"
                  path: "%REQ(:PATH)%"
                  upstream: { host: "%UPSTREAM_HOST%" }
                omit_empty_values: true
          route_config:
            name: local_route
            response_headers_to_add:
            - header: { key: X-Served-By, value: weft }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            virtual_hosts:
            - name: backend
              domains: ["Example.com", "*.example.com"]
              request_headers_to_remove: [X-Debug]
              routes:
              - name: health
                match: { path: /healthz }
                direct_response:
                  status: 200
                  body: { inline_string: ok }
              - match: { prefix: /api/v2/ }
                route:
                  weighted_clusters:
                    clusters:
                    - name: api_v1
                      weight: 90
                    - name: api_v2
                      weight: 10
                      request_headers_to_add:
                      - header: { key: x-canary, value: "true" }
                  timeout: 2.5s
              - match:
                  prefix: /api/
                  headers:
                  - name: x-tenant
                    string_match: { exact: acme, ignore_case: true }
                route: { cluster: api_v1, prefix_rewrite: /, timeout: 0s }
              - match: { prefix: /old/ }
                redirect: { path_redirect: /new/, response_code: FOUND }
              - match: { prefix: / }
                route: { cluster: web_static }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  - name: tcp_in
    address:
      socket_address: { address: 127.0.0.1, port_value: 5432 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: postgres
          cluster: db
  clusters:
  - name: api_v1
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: api_v1
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 10.0.0.1, port_value: 8000 }
        - endpoint:
            address:
              socket_address: { address: 10.0.0.2, port_value: 8000 }
          load_balancing_weight: 3
  - name: api_v2
    type: STRICT_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:
      cluster_name: api_v2
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: api-v2.internal, port_value: 8000 }
  - name: web_static
    type: LOGICAL_DNS
    load_assignment:
      cluster_name: web_static
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: static.example.com, port_value: 80 }
  - name: db
    connect_timeout: 1s
    load_assignment:
      cluster_name: db
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 10.0.1.5, port_value: 5432 }
`;
