// Config errors of filter chain matching, listener filters and the TLS transport socket:
// each names its full path; refused values (TLS 1.0/1.1, renegotiation, unknown listener
// filters, duplicate matches) are refused at load, as Envoy does or stricter.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { ConfigIssue } from '../core/errors.js';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import { validateBootstrap } from './validate-bootstrap.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit raw, untyped config trees.
type Raw = any;

const L0 = 'static_resources.listeners[0]';
const DOWNSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

const dir = mkdtempSync(join(tmpdir(), 'weft-tls-config-'));
const CERT = join(dir, 'c.pem');
writeFileSync(CERT, 'not checked by validation');

function validate(edit: (cfg: Raw) => void): { issues: ConfigIssue[]; cfg: Raw } {
  const cfg = parse(REALISTIC_BOOTSTRAP_YAML);
  edit(cfg);
  const { bootstrap, issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
  return { issues, cfg: bootstrap };
}

function expectIssues(edit: (cfg: Raw) => void, expected: Array<[string, RegExp]>): void {
  const { issues } = validate(edit);
  assert.equal(issues.length, expected.length, JSON.stringify(issues, null, 1));
  expected.forEach(([path, message], i) => {
    assert.equal(issues[i].path, path);
    assert.match(issues[i].message, message);
  });
}

function tls(common: Raw = {}, extra: Raw = {}, type = DOWNSTREAM): Raw {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': type,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: CERT }, private_key: { filename: CERT } }],
        ...common,
      },
      ...extra,
    },
  };
}

/** A copy of listener 0's chain with a match (and the listener gets the inspector). */
function twoChains(c: Raw, m0: Raw, m1: Raw, inspector = true): void {
  const l = c.static_resources.listeners[0];
  const chain = l.filter_chains[0];
  l.filter_chains = [
    { ...chain, filter_chain_match: m0 },
    { ...structuredClone(chain), filter_chain_match: m1 },
  ];
  if (inspector)
    l.listener_filters = [
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': INSPECTOR } },
    ];
}

describe('filter chain matching config', () => {
  test('chains with different matches, a default chain and the inspector are accepted', () => {
    const { issues, cfg } = validate((c) => {
      twoChains(
        c,
        { server_names: ['a.example.com', '*.b.example.com'] },
        { transport_protocol: 'raw_buffer' },
      );
      const l = c.static_resources.listeners[0];
      l.default_filter_chain = structuredClone(l.filter_chains[1]);
      delete l.default_filter_chain.filter_chain_match;
      l.listener_filters_timeout = '2s';
    });
    assert.deepEqual(issues, []);
    const l = cfg.staticResources.listeners[0];
    assert.deepEqual(l.filterChains[0].match.serverNames, ['a.example.com', '*.b.example.com']);
    assert.deepEqual(l.listenerFilters, { tlsInspector: true, timeoutMs: 2000, continueOnTimeout: false });
    assert.notEqual(l.defaultFilterChain, undefined);
  });

  test('two chains with the same match are rejected, as Envoy does', () => {
    expectIssues(
      (c) => twoChains(c, { server_names: ['a.test', 'b.test'] }, { server_names: ['b.test'] }),
      [[`${L0}.filter_chains[1]`, /same filter_chain_match as filter_chains\[0\]/]],
    );
    expectIssues((c) => twoChains(c, {}, {}), [[`${L0}.filter_chains[1]`, /same filter_chain_match/]]);
  });

  test('server_names, transport_protocol and application_protocols need the tls_inspector', () => {
    expectIssues(
      (c) =>
        twoChains(
          c,
          { server_names: ['a.test'] },
          { application_protocols: ['h2'], transport_protocol: 'tls' },
          false,
        ),
      [
        [`${L0}.filter_chains[0].filter_chain_match.server_names`, /tls_inspector/],
        [`${L0}.filter_chains[1].filter_chain_match.transport_protocol`, /tls_inspector/],
        [`${L0}.filter_chains[1].filter_chain_match.application_protocols`, /tls_inspector/],
      ],
    );
  });

  test('partial wildcards, unknown transport protocols, bad CIDRs and unknown match fields are refused', () => {
    expectIssues(
      (c) =>
        twoChains(
          c,
          {
            server_names: ['a.*.test'],
            transport_protocol: 'quic',
            prefix_ranges: [{ address_prefix: 'x', prefix_len: 8 }],
          },
          { source_type: 'LOCAL', source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 33 }] },
        ),
      [
        [`${L0}.filter_chains[0].filter_chain_match.prefix_ranges[0].address_prefix`, /not an IP address/],
        [`${L0}.filter_chains[0].filter_chain_match.server_names[0]`, /partial wildcards/],
        [`${L0}.filter_chains[0].filter_chain_match.transport_protocol`, /unsupported 'quic'/],
        [`${L0}.filter_chains[1].filter_chain_match.source_prefix_ranges[0].prefix_len`, /between 0 and 32/],
        [`${L0}.filter_chains[1].filter_chain_match.source_type`, /unsupported field/],
      ],
    );
  });

  test('listener filters other than tls_inspector are refused by path', () => {
    expectIssues(
      (c) => {
        c.static_resources.listeners[0].listener_filters = [
          {
            name: 'envoy.filters.listener.http_inspector',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
            },
          },
        ];
      },
      [[`${L0}.listener_filters[0].typed_config.@type`, /unsupported listener filter/]],
    );
  });
});

describe('TLS transport socket config', () => {
  const chain = (c: Raw) => c.static_resources.listeners[0].filter_chains[0];
  const cluster = (c: Raw) => c.static_resources.clusters[0];
  const TS = `${L0}.filter_chains[0].transport_socket.typed_config`;

  test('a DownstreamTlsContext with every supported field is accepted', () => {
    const { issues, cfg } = validate((c) => {
      chain(c).transport_socket = tls(
        {
          validation_context: {
            trusted_ca: { inline_string: '-----BEGIN CERTIFICATE-----' },
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://weft.test/' } }],
          },
          tls_params: {
            tls_minimum_protocol_version: 'TLSv1_2',
            tls_maximum_protocol_version: 'TLSv1_3',
            cipher_suites: [
              '[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]',
              'ECDHE-RSA-AES128-GCM-SHA256',
            ],
            ecdh_curves: ['X25519', 'P-256'],
          },
          alpn_protocols: ['h2', 'http/1.1'],
        },
        { require_client_certificate: true },
      );
    });
    assert.deepEqual(issues, []);
    const ts = cfg.staticResources.listeners[0].filterChains[0].transportSocket;
    assert.equal(ts.requireClientCertificate, true);
    assert.deepEqual(ts.commonTlsContext.alpnProtocols, ['h2', 'http/1.1']);
    assert.deepEqual(ts.commonTlsContext.tlsParams.cipherSuites, [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-AES128-GCM-SHA256',
    ]);
    assert.deepEqual(ts.commonTlsContext.tlsCertificates[0].certificateChain, {
      kind: 'filename',
      path: CERT,
    });
  });

  test('TLS 1.0 and 1.1 are refused', () => {
    expectIssues(
      (c) => {
        chain(c).transport_socket = tls({
          tls_params: { tls_minimum_protocol_version: 'TLSv1_0', tls_maximum_protocol_version: 'TLSv1_1' },
        });
      },
      [
        [`${TS}.common_tls_context.tls_params.tls_minimum_protocol_version`, /'TLSv1_0' is not supported/],
        [`${TS}.common_tls_context.tls_params.tls_maximum_protocol_version`, /'TLSv1_1' is not supported/],
      ],
    );
  });

  test('missing files, unknown ciphers, missing CA for client certificates and unknown fields are reported', () => {
    expectIssues(
      (c) => {
        chain(c).transport_socket = tls(
          {
            tls_certificates: [
              {
                certificate_chain: { filename: join(dir, 'missing.pem') },
                private_key: { inline_string: 'k' },
              },
            ],
            tls_params: { cipher_suites: ['NOT-A-CIPHER', 'TLS_AES_128_GCM_SHA256'] },
            tls_certificate_sds_secret_configs: [{ name: 'x' }],
          },
          { require_client_certificate: true },
        );
      },
      [
        [`${TS}.common_tls_context.tls_certificates[0].certificate_chain.filename`, /cannot read .*ENOENT/],
        [`${TS}.common_tls_context.tls_params.cipher_suites[0]`, /unknown cipher suite/],
        [`${TS}.common_tls_context.tls_params.cipher_suites[1]`, /TLS 1.3 suite/],
        [`${TS}.common_tls_context.tls_certificates`, /needs a certificate/],
        [`${TS}.require_client_certificate`, /needs common_tls_context.validation_context.trusted_ca/],
        [`${TS}.common_tls_context.tls_certificate_sds_secret_configs`, /unsupported field/],
      ],
    );
  });

  test('an UpstreamTlsContext: SNI, and renegotiation and a wrong @type refused', () => {
    const CT = 'static_resources.clusters[0].transport_socket.typed_config';
    const ok = validate((c) => {
      cluster(c).transport_socket = tls({}, { sni: 'api.example.com' }, UPSTREAM);
    });
    assert.deepEqual(ok.issues, []);
    assert.equal(ok.cfg.staticResources.clusters[0].transportSocket.sni, 'api.example.com');
    expectIssues(
      (c) => {
        cluster(c).transport_socket = tls({}, { sni: '10.0.0.1', allow_renegotiation: true }, UPSTREAM);
      },
      [
        [`${CT}.sni`, /must be a host name/],
        [`${CT}.allow_renegotiation`, /not supported/],
      ],
    );
    expectIssues(
      (c) => {
        cluster(c).transport_socket = tls({}, {}, DOWNSTREAM);
      },
      [[`${CT}.@type`, /expected type.googleapis.com\/.*UpstreamTlsContext/]],
    );
  });
});
