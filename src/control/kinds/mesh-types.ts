// Spec shapes of Weft's own mesh kinds (weft.dev/v1alpha1 Service and Workload), shared by
// their validators, the registry and the translator. Validation lives in service.ts and
// workload.ts; these types describe a resource that has passed it.

export const WEFT_API_VERSION = 'weft.dev/v1alpha1';

export type ServicePortProtocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP';

export interface ServicePort {
  /** DNS-label name; Workload.spec.ports maps this name to the instance's target port. */
  name: string;
  /** The port clients address the Service on (1-65535). */
  port: number;
  protocol: ServicePortProtocol;
}

export interface ServiceSpec {
  /** Kubernetes Service semantics: a Workload is selected when every pair matches its labels; empty selects none. */
  selector: Record<string, string>;
  ports: ServicePort[];
}

export interface Locality {
  region?: string;
  zone?: string;
}

export interface WorkloadSpec {
  /** IPv4/IPv6 literal or hostname where the instance (or its sidecar's inbound listener) is reachable. */
  address: string;
  /** Service port name -> port number on this instance. */
  ports: Record<string, number>;
  locality?: Locality;
  /** Load-balancing weight, 1-128 (Envoy's endpoint weight range); default 1. */
  weight?: number;
  /** Declared health; an unhealthy Workload is left out of endpoints. Default true. */
  healthy?: boolean;
  /**
   * When set, the Workload expires unless renewed (heartbeat) within this many seconds;
   * an expired Workload is removed. Absent = lives until deleted.
   */
  ttlSeconds?: number;
}
