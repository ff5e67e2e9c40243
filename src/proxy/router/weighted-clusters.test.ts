// Weighted cluster picks: proportions under a seeded PRNG, exact boundaries under a
// scripted random(), zero weights, and the per-cluster header mutations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Route } from '../../config/model.js';
import {
  cluster,
  clusterWeight,
  deps,
  hv,
  redirect,
  req,
  route,
  routeConfig,
  seededRandom,
  vhost,
  weighted,
} from './route-fixtures.js';
import { compileRouteTable } from './route-table.js';

function tableWith(action: Route['action'], random: () => number) {
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(undefined, action)])]),
    deps(random),
  );
  return { table, route: table.select(req('h', '/'))! };
}

test('picks follow the weights (seeded PRNG, 20000 picks, ±1.5 percentage points)', () => {
  const { table, route: r } = tableWith(
    weighted([clusterWeight('a', 10), clusterWeight('b', 30), clusterWeight('c', 60)]),
    seededRandom(7),
  );
  const n = 20000;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = table.pickCluster(r).cluster;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const expected = { a: 0.1, b: 0.3, c: 0.6 };
  for (const [name, share] of Object.entries(expected)) {
    const got = (counts.get(name) ?? 0) / n;
    assert.ok(Math.abs(got - share) <= 0.015, `${name}: got ${got}, want ${share}`);
  }
  assert.equal(counts.size, 3);
});

test('boundaries: value = floor(random * total), first cluster whose running sum exceeds it', () => {
  const script = [0, 0.0999, 0.1, 0.3999, 0.4, 0.99999, 1];
  const expected = ['a', 'a', 'b', 'b', 'c', 'c', 'c'];
  let i = 0;
  const { table, route: r } = tableWith(
    weighted([clusterWeight('a', 10), clusterWeight('b', 30), clusterWeight('c', 60)]),
    () => script[i++],
  );
  assert.deepEqual(
    script.map(() => table.pickCluster(r).cluster),
    expected,
  );
});

test('a zero weight gets no traffic', () => {
  const { table, route: r } = tableWith(
    weighted([clusterWeight('zero', 0), clusterWeight('one', 1), clusterWeight('zero2', 0)]),
    seededRandom(3),
  );
  for (let i = 0; i < 200; i++) assert.equal(table.pickCluster(r).cluster, 'one');
});

test('same random sequence → same picks (deterministic)', () => {
  const action = weighted([clusterWeight('a', 1), clusterWeight('b', 1), clusterWeight('c', 1)]);
  const run = () => {
    const { table, route: r } = tableWith(action, seededRandom(99));
    return Array.from({ length: 50 }, () => table.pickCluster(r).cluster).join(',');
  };
  assert.equal(run(), run());
});

test('a plain cluster is returned without consulting random()', () => {
  const { table, route: r } = tableWith(cluster('solo'), () => {
    throw new Error('random() must not be called');
  });
  const pick = table.pickCluster(r);
  assert.equal(pick.cluster, 'solo');
  assert.equal(pick.requestHeaderMutations, null);
  assert.equal(pick.responseHeaderMutations, null);
});

test('a weighted cluster carries its own header mutations (null when it has none)', () => {
  let next = 0;
  const { table, route: r } = tableWith(
    weighted([
      clusterWeight('a', 1, {
        requestHeadersToAdd: [hv('x-canary', 'no')],
        responseHeadersToRemove: ['server'],
      }),
      clusterWeight('b', 1),
    ]),
    () => next,
  );
  next = 0;
  const a = table.pickCluster(r);
  assert.equal(a.cluster, 'a');
  assert.deepEqual(
    a.requestHeaderMutations?.add.map((o) => o.key),
    ['x-canary'],
  );
  assert.deepEqual(a.responseHeaderMutations?.remove, ['server']);
  next = 0.9;
  const b = table.pickCluster(r);
  assert.equal(b.cluster, 'b');
  assert.equal(b.requestHeaderMutations, null);
  assert.equal(b.responseHeaderMutations, null);
});

test('pickCluster on a redirect route is a programming error', () => {
  const { table, route: r } = tableWith(redirect(), seededRandom(1));
  assert.throws(() => table.pickCluster(r), TypeError);
});
