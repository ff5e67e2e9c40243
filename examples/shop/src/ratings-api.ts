// The ratings gRPC API, loaded from examples/shop/proto at run time with
// @grpc/proto-loader, and the message shapes as TypeScript sees them (proto-loader's
// default camelCase field names). Shared by the ratings server and its client in reviews.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { shopFile } from './shop-files.js';

export interface GetRatingsRequest {
  productId: string;
}

export interface Rating {
  reviewer: string;
  stars: number;
}

export interface GetRatingsResponse {
  productId: string;
  ratings: Rating[];
  version: string;
}

export interface RatingsApi {
  readonly ratingsService: grpc.ServiceDefinition;
  readonly healthService: grpc.ServiceDefinition;
  readonly RatingsClient: grpc.ServiceClientConstructor;
  readonly HealthClient: grpc.ServiceClientConstructor;
}

export function loadRatingsApi(env: NodeJS.ProcessEnv = process.env): RatingsApi {
  const definition = protoLoader.loadSync(['ratings.proto', 'health.proto'], {
    includeDirs: [shopFile('proto', env)],
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const ratings = (loaded.shop as grpc.GrpcObject).ratings as grpc.GrpcObject;
  const RatingsClient = (ratings.v1 as grpc.GrpcObject).Ratings as grpc.ServiceClientConstructor;
  const health = (loaded.grpc as grpc.GrpcObject).health as grpc.GrpcObject;
  const HealthClient = (health.v1 as grpc.GrpcObject).Health as grpc.ServiceClientConstructor;
  return {
    ratingsService: RatingsClient.service,
    healthService: HealthClient.service,
    RatingsClient,
    HealthClient,
  };
}
