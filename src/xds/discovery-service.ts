// The gRPC service definition of envoy.service.discovery.v3.AggregatedDiscoveryService
// (envoy/service/discovery/v3/ads.proto), with (de)serialisers from the loaded protobufjs
// types. Requests decode to protobufjs message objects (snake_case fields, as loaded);
// responses are encoded from plain objects whose `resources` carry pre-encoded Any bytes.

import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { AnyMessage } from './json-codec.js';
import type { XdsProtos } from './protos.js';
import { createNamesDecoder } from './request-names.js';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** google.rpc.Status as carried in error_detail. */
export interface RpcStatus {
  code?: number;
  message?: string;
}

/** DiscoveryRequest (SotW) as decoded. */
export interface DiscoveryRequest {
  version_info?: string;
  node?: protobuf.Message | null;
  /** May be shared with other requests (request-names.ts): never mutate it. */
  resource_names?: readonly string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: RpcStatus | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
  control_plane?: { identifier: string };
}

/** DeltaDiscoveryRequest as decoded. */
export interface DeltaDiscoveryRequest {
  node?: protobuf.Message | null;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus | null;
}

export interface DeltaResource {
  name: string;
  version: string;
  resource: AnyMessage;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane?: { identifier: string };
}

function codecFor<T>(type: protobuf.Type) {
  return {
    serialize: (value: T): Buffer => {
      // A response already encoded from cached parts (wire-response.ts) goes out as is.
      if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value);
      const bytes = type.encode(value as unknown as Record<string, unknown>).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize: (bytes: Buffer): T => type.decode(bytes) as unknown as T,
  };
}

/** Both ADS methods; usable with Server.addService and makeGenericClientConstructor alike. */
export function adsServiceDefinition(protos: XdsProtos): ServiceDefinition {
  const requestType = protos.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const req = codecFor<DiscoveryRequest>(requestType);
  // Requests repeat their subscription: equal name lists decode to one shared array.
  const names = createNamesDecoder(requestType);
  const res = codecFor<DiscoveryResponse>(protos.lookupType('envoy.service.discovery.v3.DiscoveryResponse'));
  const dreq = codecFor<DeltaDiscoveryRequest>(
    protos.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
  );
  const dres = codecFor<DeltaDiscoveryResponse>(
    protos.lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  );
  return {
    StreamAggregatedResources: {
      path: `/${ADS_SERVICE_NAME}/StreamAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: req.serialize,
      requestDeserialize: (bytes: Buffer) => names.decode(bytes) as DiscoveryRequest,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: 'streamAggregatedResources',
    },
    DeltaAggregatedResources: {
      path: `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: dreq.serialize,
      requestDeserialize: dreq.deserialize,
      responseSerialize: dres.serialize,
      responseDeserialize: dres.deserialize,
      originalName: 'deltaAggregatedResources',
    },
  };
}
