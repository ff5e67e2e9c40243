// The four xDS resource types the proxy consumes, one strategy object each (type URL, short
// name, validation into the config model). Validation is the file path's: the same
// src/config validators, so a resource means the same from a file and from a control plane.

import type { HttpFilterRegistry } from '../../config/http-filter-registry.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../config/model.js';
import {
  type ResourceValidation,
  validateClusterLoadAssignmentResource,
  validateClusterResource,
  validateListenerResource,
  validateRouteConfigurationResource,
} from '../../config/validate-xds-resource.js';
import type { JsonObject } from '../../xds/json-codec.js';
import { TYPE_URLS } from '../../xds/type-urls.js';

export interface ResourceType<T> {
  readonly typeUrl: string;
  /** LDS, CDS, RDS, EDS. */
  readonly short: string;
  /** The message name, for messages ("Listener 'x': ..."). */
  readonly kind: string;
  validate(json: JsonObject): ResourceValidation<T>;
}

export interface ResourceTypes {
  readonly listener: ResourceType<Listener>;
  readonly cluster: ResourceType<Cluster>;
  readonly route: ResourceType<RouteConfiguration>;
  readonly endpoint: ResourceType<ClusterLoadAssignment>;
}

export function createResourceTypes(registry: HttpFilterRegistry): ResourceTypes {
  return {
    listener: {
      typeUrl: TYPE_URLS.listener,
      short: 'LDS',
      kind: 'Listener',
      validate: (json) => validateListenerResource(json, registry),
    },
    cluster: {
      typeUrl: TYPE_URLS.cluster,
      short: 'CDS',
      kind: 'Cluster',
      validate: (json) => validateClusterResource(json),
    },
    route: {
      typeUrl: TYPE_URLS.route,
      short: 'RDS',
      kind: 'RouteConfiguration',
      validate: (json) => validateRouteConfigurationResource(json, registry),
    },
    endpoint: {
      typeUrl: TYPE_URLS.endpoint,
      short: 'EDS',
      kind: 'ClusterLoadAssignment',
      validate: (json) => validateClusterLoadAssignmentResource(json),
    },
  };
}
