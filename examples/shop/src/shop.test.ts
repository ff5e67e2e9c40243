// End-to-end test of the shop demo without the mesh: every service runs as its own
// process on 127.0.0.1 port 0 (the bound port is read from its "listening on" line), wired
// to the others through the WEFT_UPSTREAM_<SERVICE>_URL variables a sidecar would
// provide. Checks the page and the API across all hops (including the gRPC one), the
// three reviews versions, header propagation, the FAIL_RATE and DELAY_MS knobs, health
// checks, the per-request log line and a clean exit on SIGTERM.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createFleet, type Running } from './process-fleet.js';
import { loadRatingsApi } from './ratings-api.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers and assert on them.
type Json = Record<string, any>;

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

/** Waits until `r` has logged a line matching `pattern` (log lines are written after the answer). */
async function logged(r: Running, pattern: RegExp): Promise<string> {
  for (;;) {
    const line = r.lines.find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await once(r.child.stdout!, 'data');
  }
}

describe('shop demo (services wired directly, as their sidecars would)', { timeout: 60_000 }, () => {
  const fleet = createFleet();
  let ratings: Running;
  let catalog: Running;
  let reviews: Record<'v1' | 'v2' | 'v3', Running>;
  let web: Running;
  let webV3: Running;

  before(async () => {
    [ratings, catalog] = await Promise.all([fleet.start('ratings', {}), fleet.start('catalog', {})]);
    const toRatings = { WEFT_UPSTREAM_RATINGS_URL: ratings.url };
    const [v1, v2, v3] = await Promise.all(
      (['v1', 'v2', 'v3'] as const).map((v) =>
        fleet.start('reviews', { VERSION: v, ...toRatings }, `reviews-${v}`),
      ),
    );
    reviews = { v1: v1!, v2: v2!, v3: v3! };
    [web, webV3] = await Promise.all([
      fleet.start('web', { WEFT_UPSTREAM_CATALOG_URL: catalog.url, WEFT_UPSTREAM_REVIEWS_URL: v2!.url }),
      fleet.start(
        'web',
        { WEFT_UPSTREAM_CATALOG_URL: catalog.url, WEFT_UPSTREAM_REVIEWS_URL: v3!.url },
        'web-to-v3',
      ),
    ]);
  });
  after(() => fleet.stopAll());

  test('the JSON API joins catalog, reviews v2 and ratings (gRPC)', async () => {
    const { status, headers, body } = await getJson(`${web.url}/api/products/1`);
    assert.equal(status, 200);
    assert.equal(headers.get('x-shop-service'), 'web');
    assert.equal(headers.get('x-shop-version'), 'v1');
    assert.equal(headers.get('x-shop-reviews-version'), 'v2');
    assert.equal(body.product.name, 'Linen tea towel');
    assert.deepEqual(body.served, { web: 'v1', catalog: 'v1', reviews: 'v2', ratings: 'v1' });
    assert.equal(body.reviews.starColor, 'black');
    assert.deepEqual(
      body.reviews.reviews.map((r: { reviewer: string; stars: number }) => [r.reviewer, r.stars]),
      [
        ['ada', 5],
        ['grace', 4],
      ],
    );
    // One log line per request, and web's request id (made up here: no sidecar) reaches reviews.
    const line = await logged(web, /web v1 GET \/api\/products\/1 200 \d+ms id=[0-9a-f-]{36}$/);
    const id = line.slice(line.lastIndexOf('id=') + 3);
    await logged(reviews.v2, new RegExp(`reviews v2 GET /reviews/1 200 \\d+ms id=${id}$`));
    await logged(ratings, /ratings v1 GetRatings product=1 OK \d+ms/);
  });

  test('the HTML pages list products and show stars', async () => {
    const list = await fetch(`${web.url}/`);
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-type')!, /^text\/html/);
    const listHtml = await list.text();
    assert.match(listHtml, /<a href="\/products\/2">Wool throw<\/a> €89\.00/);
    const res = await fetch(`${web.url}/products/1`);
    const html = await res.text();
    assert.match(html, /<span class="stars" style="color:black">★★★★★<\/span>/);
    assert.match(html, /served by web v1 · catalog v1 · reviews v2 · ratings v1/);
    const v3 = await (await fetch(`${webV3.url}/products/1`)).text();
    assert.match(v3, /style="color:red">★★★★☆/);
    assert.match(v3, /reviews v3: new star colour/);
    assert.equal((await fetch(`${web.url}/products/99`)).status, 404);
    assert.equal((await fetch(`${web.url}/nowhere`)).status, 404);
  });

  test('each reviews version says which it is', async () => {
    const v1 = await getJson(`${reviews.v1.url}/reviews/2`);
    assert.equal(v1.headers.get('x-shop-version'), 'v1');
    assert.equal(v1.body.version, 'v1');
    assert.equal(v1.body.starColor, undefined);
    assert.equal(v1.body.reviews[0].stars, undefined);
    const v3 = await getJson(`${reviews.v3.url}/reviews/2`);
    assert.equal(v3.headers.get('x-shop-version'), 'v3');
    assert.equal(v3.body.version, 'v3');
    assert.equal(v3.body.starColor, 'red');
    assert.equal(v3.body.highlight, 'reviews v3: new star colour');
    assert.deepEqual(v3.body.reviews[1], {
      reviewer: 'grace',
      text: 'The twill drapes beautifully over the sofa.',
      stars: 5,
    });
  });

  test('every service answers its health check', async () => {
    for (const r of [catalog, reviews.v1, reviews.v2, reviews.v3, web]) {
      const { status, body } = await getJson(`${r.url}/healthz`);
      assert.equal(status, 200, r.name);
      assert.equal(body.status, 'ok');
    }
    const { HealthClient } = loadRatingsApi();
    const client = new HealthClient(new URL(ratings.url).host, grpc.credentials.createInsecure());
    try {
      const answer = await new Promise<{ status: string }>((resolve, reject) =>
        client.Check({ service: '' }, (err: Error | null, res: { status: string }) =>
          err === null ? resolve(res) : reject(err),
        ),
      );
      assert.equal(answer.status, 'SERVING');
    } finally {
      client.close();
    }
  });

  test('web passes x-user (or ?user=) and x-request-id on to reviews', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const recorder = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json', 'x-shop-version': 'v9' });
      res.end(JSON.stringify({ version: 'v9', reviews: [] }));
    });
    recorder.listen(0, '127.0.0.1');
    await once(recorder, 'listening');
    try {
      const port = (recorder.address() as AddressInfo).port;
      const w = await fleet.start(
        'web',
        { WEFT_UPSTREAM_CATALOG_URL: catalog.url, WEFT_UPSTREAM_REVIEWS_URL: `http://127.0.0.1:${port}` },
        'web-to-recorder',
      );
      const a = await getJson(`${w.url}/api/products/3`, { 'x-user': 'tester', 'x-request-id': 'req-1' });
      assert.equal(a.body.served.reviews, 'v9');
      assert.equal(a.headers.get('x-shop-reviews-version'), 'v9');
      await getJson(`${w.url}/api/products/3?user=tester`);
      await getJson(`${w.url}/api/products/3`);
      assert.equal(seen.length, 3);
      assert.equal(seen[0]!['x-user'], 'tester');
      assert.equal(seen[0]!['x-request-id'], 'req-1');
      assert.equal(seen[1]!['x-user'], 'tester');
      assert.equal(seen[2]!['x-user'], undefined);
      assert.match(String(seen[2]!['x-request-id']), /^[0-9a-f-]{36}$/);
    } finally {
      recorder.close();
    }
  });

  test('FAIL_RATE on ratings: every second call UNAVAILABLE, reviews still answers without stars', async () => {
    const flaky = await fleet.start('ratings', { FAIL_RATE: '0.5' }, 'ratings-flaky');
    const r = await fleet.start(
      'reviews',
      { VERSION: 'v2', WEFT_UPSTREAM_RATINGS_URL: flaky.url },
      'reviews-to-flaky',
    );
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await getJson(`${r.url}/reviews/1`)).body);
    assert.deepEqual(
      answers.map((a) => [a.ratingsError === undefined, a.reviews[0].stars ?? null]),
      [
        [true, 5],
        [false, null],
        [true, 5],
        [false, null],
      ],
    );
    assert.match(answers[1].ratingsError, /^UNAVAILABLE: injected failure \(FAIL_RATE=0\.5\)$/);
    await logged(flaky, /ratings v1 GetRatings product=1 UNAVAILABLE \d+ms fault=FAIL_RATE/);
  });

  test('FAIL_RATE on HTTP services: 503s, health checks exempt; web degrades or fails', async () => {
    const flakyCatalog = await fleet.start('catalog', { FAIL_RATE: '0.5' }, 'catalog-flaky');
    const deadReviews = await fleet.start('reviews', { VERSION: 'v1', FAIL_RATE: '1' }, 'reviews-dead');
    const w = await fleet.start(
      'web',
      { WEFT_UPSTREAM_CATALOG_URL: flakyCatalog.url, WEFT_UPSTREAM_REVIEWS_URL: deadReviews.url },
      'web-to-flaky',
    );
    assert.equal((await getJson(`${flakyCatalog.url}/healthz`)).status, 200);
    const first = await getJson(`${w.url}/api/products/2`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-shop-reviews-version'), 'none');
    assert.match(first.body.reviews.error, /^reviews answered 503: injected failure \(FAIL_RATE=1\)$/);
    assert.equal(first.body.served.reviews, undefined);
    const second = await getJson(`${w.url}/api/products/2`);
    assert.equal(second.status, 502);
    assert.match(second.body.error, /^catalog answered 503: injected failure \(FAIL_RATE=0\.5\)$/);
    const direct = await fetch(`${deadReviews.url}/reviews/1`);
    assert.equal(direct.status, 503);
    assert.equal(direct.headers.get('x-shop-fault'), 'fail-rate');
    assert.equal(direct.headers.get('x-shop-version'), 'v1');
    await logged(flakyCatalog, /catalog v1 GET \/products\/2 503 \d+ms id=\S+ fault=FAIL_RATE/);
  });

  test('DELAY_MS: slows answers; past the caller timeout web answers 502, reviews drops stars', async () => {
    const slowCatalog = await fleet.start('catalog', { DELAY_MS: '300' }, 'catalog-slow');
    const slowRatings = await fleet.start('ratings', { DELAY_MS: '300' }, 'ratings-slow');
    const started = performance.now();
    assert.equal((await getJson(`${slowCatalog.url}/products/1`)).status, 200);
    assert.ok(performance.now() - started >= 290, 'the answer took at least DELAY_MS');
    const r = await fleet.start(
      'reviews',
      { VERSION: 'v3', WEFT_UPSTREAM_RATINGS_URL: slowRatings.url, UPSTREAM_TIMEOUT_MS: '100' },
      'reviews-to-slow',
    );
    const w = await fleet.start(
      'web',
      {
        WEFT_UPSTREAM_CATALOG_URL: slowCatalog.url,
        WEFT_UPSTREAM_REVIEWS_URL: r.url,
        UPSTREAM_TIMEOUT_MS: '100',
      },
      'web-to-slow',
    );
    const page = await getJson(`${w.url}/api/products/1`);
    assert.equal(page.status, 502);
    assert.match(page.body.error, /^catalog: 127\.0\.0\.1:\d+\/products\/1: no answer in 100 ms$/);
    const rv = await getJson(`${r.url}/reviews/1`);
    assert.equal(rv.status, 200);
    assert.match(rv.body.ratingsError, /^DEADLINE_EXCEEDED: /);
    assert.equal(rv.body.version, 'v3');
  });

  test('a bad setting stops the service with a message naming the variable', async () => {
    await assert.rejects(fleet.start('catalog', { PORT: 'http' }), /PORT must be an integer from 0 to 65535/);
    await assert.rejects(fleet.start('reviews', { VERSION: 'v4' }), /VERSION must be v1, v2 or v3/);
    await assert.rejects(fleet.start('web', {}), /WEFT_UPSTREAM_CATALOG_URL is not set/);
  });

  test('every service exits 0 on SIGTERM', async () => {
    const codes = await fleet.stopAll();
    assert.deepEqual(
      fleet.all.map((r, i) => [r.name, codes[i]]),
      fleet.all.map((r) => [r.name, 0]),
    );
    // A request still in flight may finish (and log its line) after the stopping line.
    for (const r of fleet.all)
      assert.ok(
        r.lines.some((l) => /stopping \(SIGTERM\)$/.test(l)),
        `${r.name}: ${r.lines.slice(-3).join(' | ')}`,
      );
  });
});
