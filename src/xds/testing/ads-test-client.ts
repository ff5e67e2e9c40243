// A minimal ADS client for tests: opens a SotW or delta stream to a server on 127.0.0.1,
// sends requests built from plain JSON and hands back responses in arrival order, with the
// resources decoded to proto3 JSON. Not a real xDS client (no ACK logic of its own).

import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { adsServiceDefinition } from '../discovery-service.js';
import type { AnyMessage, JsonCodec, JsonObject } from '../json-codec.js';
import type { XdsProtos } from '../protos.js';

export interface TestResponse {
  version: string;
  nonce: string;
  typeUrl: string;
  /** SotW: resources in order; delta: resources in order (name/version alongside). */
  resources: JsonObject[];
  names: string[];
  versions: string[];
  removed: string[];
}

export interface TestRequest {
  typeUrl: string;
  /** SotW resource_names. */
  names?: string[];
  version?: string;
  nonce?: string;
  error?: { code: number; message: string };
  /** Delta. */
  subscribe?: string[];
  unsubscribe?: string[];
  initialVersions?: Record<string, string>;
}

export interface TestAdsStream {
  send(req: TestRequest): void;
  /** The next response (rejects if the stream ends first). */
  next(): Promise<TestResponse>;
  /** Resolves with the stream's final status. */
  readonly ended: Promise<{ code: number; details: string }>;
  close(): void;
}

interface RawResponse {
  version_info?: string;
  system_version_info?: string;
  nonce: string;
  type_url: string;
  resources: Array<AnyMessage | { name: string; version: string; resource: AnyMessage }>;
  removed_resources?: string[];
}

export function createAdsTestClient(protos: XdsProtos, codec: JsonCodec, port: number) {
  const Client = makeGenericClientConstructor(adsServiceDefinition(protos), 'AggregatedDiscoveryService');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());

  function open(protocol: 'sotw' | 'delta', node: JsonObject): TestAdsStream {
    const method = protocol === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = (client as unknown as Record<string, () => ClientDuplexStream<object, RawResponse>>)[
      method
    ].call(client);
    const queue: RawResponse[] = [];
    const waiters: Array<{ resolve: (r: RawResponse) => void; reject: (e: Error) => void }> = [];
    let endError: Error | undefined;
    let first = true;
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      call.on('status', (s) => resolve({ code: s.code, details: s.details }));
    });
    call.on('data', (r: RawResponse) => {
      const w = waiters.shift();
      if (w) w.resolve(r);
      else queue.push(r);
    });
    call.on('error', (err: ServiceError) => {
      endError = err;
      for (const w of waiters.splice(0)) w.reject(err);
    });
    const toTest = (r: RawResponse): TestResponse => {
      const out: TestResponse = {
        version: r.version_info ?? r.system_version_info ?? '',
        nonce: r.nonce,
        typeUrl: r.type_url,
        resources: [],
        names: [],
        versions: [],
        removed: [...(r.removed_resources ?? [])],
      };
      for (const res of r.resources) {
        if ('resource' in res) {
          out.names.push(res.name);
          out.versions.push(res.version);
          out.resources.push(codec.fromAny(res.resource));
        } else {
          const json = codec.fromAny(res);
          out.resources.push(json);
          out.names.push(String(json.name ?? json.cluster_name ?? ''));
        }
      }
      return out;
    };
    return {
      send(req) {
        const nodeMsg = first ? codec.jsonToMessage('envoy.config.core.v3.Node', node) : undefined;
        first = false;
        const error_detail = req.error ? { code: req.error.code, message: req.error.message } : undefined;
        if (protocol === 'sotw') {
          call.write({
            node: nodeMsg,
            type_url: req.typeUrl,
            resource_names: req.names ?? [],
            version_info: req.version ?? '',
            response_nonce: req.nonce ?? '',
            error_detail,
          });
        } else {
          call.write({
            node: nodeMsg,
            type_url: req.typeUrl,
            resource_names_subscribe: req.subscribe ?? [],
            resource_names_unsubscribe: req.unsubscribe ?? [],
            initial_resource_versions: req.initialVersions ?? {},
            response_nonce: req.nonce ?? '',
            error_detail,
          });
        }
      },
      next() {
        const r = queue.shift();
        if (r) return Promise.resolve(toTest(r));
        if (endError) return Promise.reject(endError);
        return new Promise<RawResponse>((resolve, reject) => waiters.push({ resolve, reject })).then(toTest);
      },
      ended,
      close() {
        call.cancel();
      },
    };
  }

  return {
    sotw: (node: JsonObject) => open('sotw', node),
    delta: (node: JsonObject) => open('delta', node),
    close: () => client.close(),
  };
}
