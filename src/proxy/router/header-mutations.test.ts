// Header mutations: Envoy's level order (route, virtual host, route configuration), the
// four append actions, keep_empty_value, remove-before-add, and the per-level rules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderMutations, HeaderValueOption } from '../../config/model.js';
import type { HeaderList } from '../http/headers.js';
import { createStreamInfo } from '../stream-info.js';
import { compileHeaderMutationLevel } from './header-mutations.js';
import {
  deps,
  hv,
  NO_MUTATIONS,
  req,
  route,
  routeConfig,
  testCompileHeaderValue,
  vhost,
} from './route-fixtures.js';
import { applyHeaderMutations, compileRouteTable, EMPTY_HEADER_MUTATION_PLAN } from './route-table.js';

function reqAdds(...add: HeaderValueOption[]): Partial<HeaderMutations> {
  return { requestHeadersToAdd: add };
}

/** Applies the request plan of a table built from the three levels to `headers`. */
function applyLevels(
  levels: {
    route?: Partial<HeaderMutations>;
    vhost?: Partial<HeaderMutations>;
    config?: Partial<HeaderMutations>;
  },
  headers: HeaderList,
  side: 'request' | 'response' = 'request',
): HeaderList {
  const table = compileRouteTable(
    routeConfig(
      [
        vhost(
          'vh',
          ['*'],
          [route(undefined, undefined, { name: 'the-route', ...levels.route })],
          levels.vhost,
        ),
      ],
      levels.config,
    ),
    deps(),
  );
  const r = table.select(req('h', '/'))!;
  const info = createStreamInfo();
  info.routeName = r.name;
  info.requestHeaders = headers;
  applyHeaderMutations(
    headers,
    side === 'request' ? r.requestHeaderMutations : r.responseHeaderMutations,
    info,
  );
  return headers;
}

function level(add: HeaderValueOption[], remove: string[] = []) {
  return compileHeaderMutationLevel(add, remove, null, testCompileHeaderValue)!;
}
function apply(add: HeaderValueOption[], headers: HeaderList, remove: string[] = []): HeaderList {
  applyHeaderMutations(headers, level(add, remove), createStreamInfo());
  return headers;
}

test('levels apply route, then virtual host, then route configuration: the least specific overwrite wins', () => {
  const ow = (v: string) => reqAdds(hv('x', v, 'OVERWRITE_IF_EXISTS_OR_ADD'));
  assert.deepEqual(applyLevels({ route: ow('route'), vhost: ow('vhost'), config: ow('config') }, []), [
    'x',
    'config',
  ]);
  assert.deepEqual(applyLevels({ route: ow('route'), vhost: ow('vhost') }, []), ['x', 'vhost']);
  const ap = (v: string) => reqAdds(hv('y', v));
  assert.deepEqual(applyLevels({ route: ap('r'), vhost: ap('v'), config: ap('c') }, ['y', '0']), [
    'y',
    '0',
    'y',
    'r',
    'y',
    'v',
    'y',
    'c',
  ]);
});

test('removals of a level run before its additions, and after the more specific levels', () => {
  // A less specific level removes what a more specific one added.
  assert.deepEqual(
    applyLevels({ route: reqAdds(hv('x-a', '1')), vhost: { requestHeadersToRemove: ['x-a'] } }, [
      'keep',
      'k',
    ]),
    ['keep', 'k'],
  );
  // Within one level, remove-then-add.
  assert.deepEqual(apply([hv('x-a', 'new')], ['x-a', 'old'], ['x-a']), ['x-a', 'new']);
});

test('APPEND_IF_EXISTS_OR_ADD appends another entry', () => {
  assert.deepEqual(apply([hv('x', '2')], ['x', '1']), ['x', '1', 'x', '2']);
  assert.deepEqual(apply([hv('x', '2')], []), ['x', '2']);
});

test('ADD_IF_ABSENT adds only when the name is absent before the level', () => {
  assert.deepEqual(apply([hv('x', '2', 'ADD_IF_ABSENT')], ['x', '1']), ['x', '1']);
  assert.deepEqual(apply([hv('x', '2', 'ADD_IF_ABSENT')], []), ['x', '2']);
  // Both entries see the headers as they were before this level (Envoy collects, then applies).
  assert.deepEqual(apply([hv('x', 'a', 'ADD_IF_ABSENT'), hv('x', 'b', 'ADD_IF_ABSENT')], []), [
    'x',
    'a',
    'x',
    'b',
  ]);
});

test('OVERWRITE_IF_EXISTS_OR_ADD replaces all entries or adds one', () => {
  assert.deepEqual(apply([hv('x', 'n', 'OVERWRITE_IF_EXISTS_OR_ADD')], ['x', '1', 'o', 'o', 'x', '2']), [
    'x',
    'n',
    'o',
    'o',
  ]);
  assert.deepEqual(apply([hv('x', 'n', 'OVERWRITE_IF_EXISTS_OR_ADD')], ['o', 'o']), ['o', 'o', 'x', 'n']);
});

test('OVERWRITE_IF_EXISTS replaces only an existing header', () => {
  assert.deepEqual(apply([hv('x', 'n', 'OVERWRITE_IF_EXISTS')], ['x', '1']), ['x', 'n']);
  assert.deepEqual(apply([hv('x', 'n', 'OVERWRITE_IF_EXISTS')], []), []);
  // Existence is judged before this level's own additions.
  assert.deepEqual(apply([hv('x', 'a'), hv('x', 'n', 'OVERWRITE_IF_EXISTS')], []), ['x', 'a']);
});

test('within a level, overwrites are applied before appends, whatever the config order', () => {
  assert.deepEqual(apply([hv('x', 'app'), hv('x', 'ow', 'OVERWRITE_IF_EXISTS_OR_ADD')], ['x', '0']), [
    'x',
    'ow',
    'x',
    'app',
  ]);
});

test('keep_empty_value: an empty value does nothing unless kept', () => {
  assert.deepEqual(apply([hv('x', '')], []), []);
  assert.deepEqual(
    apply([hv('x', '', 'OVERWRITE_IF_EXISTS_OR_ADD')], ['x', '1']),
    ['x', '1'],
    'no overwrite with ""',
  );
  assert.deepEqual(apply([hv('x', '', 'APPEND_IF_EXISTS_OR_ADD', true)], []), ['x', '']);
  assert.deepEqual(apply([hv('x', '', 'OVERWRITE_IF_EXISTS_OR_ADD', true)], ['x', '1']), ['x', '']);
  // A formatted value that comes out empty is treated the same way.
  assert.deepEqual(apply([hv('x', '%REQ(missing)%')], []), []);
  assert.deepEqual(apply([hv('x', '%REQ(missing)%', 'APPEND_IF_EXISTS_OR_ADD', true)], []), ['x', '']);
});

test('values are formatted with the StreamInfo of the request', () => {
  assert.deepEqual(applyLevels({ route: reqAdds(hv('x-route', '%ROUTE_NAME%')) }, []), [
    'x-route',
    'the-route',
  ]);
  const copy = applyLevels({ vhost: reqAdds(hv('x-copy', '%REQ(x-in)%')) }, ['x-in', 'v']);
  assert.deepEqual(copy, ['x-in', 'v', 'x-copy', 'v']);
});

test('response mutations use their own lists', () => {
  const levels = {
    route: { responseHeadersToAdd: [hv('x-resp', 'r')], requestHeadersToAdd: [hv('x-req', 'q')] },
    config: { responseHeadersToRemove: ['server'] },
  };
  assert.deepEqual(applyLevels(levels, ['server', 'up', 'a', 'b'], 'response'), ['a', 'b', 'x-resp', 'r']);
  assert.deepEqual(applyLevels(levels, [], 'request'), ['x-req', 'q']);
});

test('a plan is reusable: applying twice gives the same result each time', () => {
  const plan = level([hv('x', 'a', 'ADD_IF_ABSENT'), hv('y', 'b', 'OVERWRITE_IF_EXISTS')]);
  const first: HeaderList = ['y', '0'];
  const second: HeaderList = [];
  applyHeaderMutations(first, plan, createStreamInfo());
  applyHeaderMutations(second, plan, createStreamInfo());
  assert.deepEqual(first, ['y', 'b', 'x', 'a']);
  assert.deepEqual(second, ['x', 'a']);
});

test('routes without mutations share the empty plan', () => {
  const table = compileRouteTable(routeConfig([vhost('vh', ['*'])], NO_MUTATIONS), deps());
  const r = table.select(req('h', '/'))!;
  assert.equal(r.requestHeaderMutations, EMPTY_HEADER_MUTATION_PLAN);
  assert.equal(r.responseHeaderMutations, EMPTY_HEADER_MUTATION_PLAN);
  const headers: HeaderList = ['a', 'b'];
  applyHeaderMutations(headers, EMPTY_HEADER_MUTATION_PLAN, createStreamInfo());
  assert.deepEqual(headers, ['a', 'b']);
});
