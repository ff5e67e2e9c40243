// The shape every control-plane resource shares (Kubernetes style) and the contract a
// resource kind implements. The store, the API, the CLI and the translator all speak
// these types; nothing else about a kind is known outside its own module.

/** A problem found in a resource: a dotted/indexed field path (e.g. `spec.rules[0].matches[1].path.type`) and what is wrong. */
export interface ResourceIssue {
  readonly path: string;
  readonly message: string;
}

export interface ObjectMeta {
  name: string;
  /** Absent for cluster-scoped kinds; `default` when a namespaced resource omits it. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the store: the store revision of the last change to this resource (a decimal string, as in Kubernetes). */
  resourceVersion?: string;
  /** Set by the store: increases by one each time `spec` changes. */
  generation?: number;
  /** Set by the store on first create (RFC 3339). */
  creationTimestamp?: string;
}

export interface Resource<Spec = Record<string, unknown>, Status = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** Identifies one stored resource. `namespace` is '' for cluster-scoped kinds. */
export interface ResourceKey {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * One kind the control plane accepts. Kinds are registered into a KindRegistry that is
 * built in one place (no module-level registry) and injected into the store/API.
 */
export interface KindDefinition {
  /** `group/version`, e.g. `gateway.networking.k8s.io/v1`, or `weft.dev/v1alpha1`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** Lower-case plural used in API paths and by `weft get` (e.g. `httproutes`). */
  readonly plural: string;
  /** Other names `weft get` accepts (singular, short names), lower-case. */
  readonly aliases: readonly string[];
  readonly namespaced: boolean;
  /**
   * Validates the whole resource (metadata has already been checked for name/namespace
   * syntax by the store/API). Returns every problem, with paths starting at the resource
   * root (`spec....`). Must not throw on any JSON input.
   */
  validate(resource: Resource<unknown, unknown>): ResourceIssue[];
}
