// ratings: stars per reviewer and product, over gRPC (shop.ratings.v1.Ratings, see
// proto/ratings.proto) — the one gRPC hop of the shop, called by reviews v2 and v3.
// Instead of HTTP /healthz it answers the standard gRPC health check
// (grpc.health.v1.Health/Check). FAIL_RATE answers UNAVAILABLE, the gRPC status a
// client or a mesh retries; DELAY_MS delays every answer.
// Env: PORT, HOST, VERSION, FAIL_RATE, DELAY_MS (see shop-config.ts).

import * as grpc from '@grpc/grpc-js';
import { createFaultKnobs } from './fault-knobs.js';
import { exitOnStartError, stopOnSignals } from './http-service.js';
import {
  type GetRatingsRequest,
  type GetRatingsResponse,
  loadRatingsApi,
  type Rating,
} from './ratings-api.js';
import { readShopConfig, type ShopConfig } from './shop-config.js';

/** Product id → the stars each reviewer gave (reviewers match those in reviews.ts). */
const STARS: Readonly<Record<string, readonly Rating[]>> = {
  '1': [
    { reviewer: 'ada', stars: 5 },
    { reviewer: 'grace', stars: 4 },
  ],
  '2': [
    { reviewer: 'ada', stars: 3 },
    { reviewer: 'grace', stars: 5 },
  ],
  '3': [{ reviewer: 'ada', stars: 2 }],
};

const DRAIN_MS = 5000;

function runRatings(config: ShopConfig): void {
  const api = loadRatingsApi();
  const knobs = createFaultKnobs(config);
  const server = new grpc.Server();

  function log(call: string, code: grpc.status, started: number, note = ''): void {
    const ms = Math.round(performance.now() - started);
    process.stdout.write(
      `${new Date().toISOString()} ratings ${config.version} ${call} ${grpc.status[code]} ${ms}ms${note}\n`,
    );
  }

  const ratingsImpl: grpc.UntypedServiceImplementation = {
    GetRatings(
      call: grpc.ServerUnaryCall<GetRatingsRequest, GetRatingsResponse>,
      callback: grpc.sendUnaryData<GetRatingsResponse>,
    ) {
      const started = performance.now();
      const what = `GetRatings product=${call.request.productId}`;
      const metadata = new grpc.Metadata();
      metadata.set('x-shop-version', config.version);
      knobs.delay().then(() => {
        if (knobs.nextShouldFail()) {
          log(what, grpc.status.UNAVAILABLE, started, ' fault=FAIL_RATE');
          callback({
            code: grpc.status.UNAVAILABLE,
            details: `injected failure (FAIL_RATE=${config.failRate})`,
            metadata,
          });
          return;
        }
        call.sendMetadata(metadata);
        const ratings = [...(STARS[call.request.productId] ?? [])];
        log(what, grpc.status.OK, started);
        callback(null, { productId: call.request.productId, ratings, version: config.version });
      });
    },
  };

  const healthImpl: grpc.UntypedServiceImplementation = {
    // Health checks bypass the knobs, as /healthz does in the HTTP services.
    Check(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      callback(null, { status: 'SERVING' });
    },
  };

  server.addService(api.ratingsService, ratingsImpl);
  server.addService(api.healthService, healthImpl);
  // An IPv6 literal needs brackets in a gRPC target.
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  server.bindAsync(`${host}:${config.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err !== null) exitOnStartError('ratings', err);
    process.stdout.write(`shop ratings ${config.version} listening on ${config.host}:${port}\n`);
  });
  stopOnSignals(config, (done) => {
    const force = setTimeout(() => server.forceShutdown(), DRAIN_MS);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      done();
    });
  });
}

try {
  runRatings(readShopConfig('ratings'));
} catch (err) {
  exitOnStartError('ratings', err);
}
