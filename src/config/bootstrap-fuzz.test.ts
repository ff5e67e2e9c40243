// Property test (STYLE.md rule 7: YAML config is untrusted input): random mutations of a
// valid config never make the loader throw anything but ConfigError/WeftError, and the
// validator never returns a bootstrap together with issues.
// Seeded, bounded; set WEFT_FUZZ_ITERATIONS to run longer (and WEFT_FUZZ_SEED to replay).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ConfigError, WeftError } from '../core/errors.js';
import { seededRandom } from '../core/seeded-random.js';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import { parseBootstrap } from './load-bootstrap.js';
import { validateBootstrap } from './validate-bootstrap.js';

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 300);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x5eed);

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.MAX_VALUE,
  '',
  'x',
  '5s',
  '-1s',
  '*',
  '(?=a)',
  '[[:alpha:]]',
  ':path',
  'Host',
  'STATIC',
  'EDS',
  true,
  [],
  [null],
  {},
  { value: 3 },
  { seconds: '1', nanos: 5 },
  { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  { __proto__: { polluted: true } },
];
const ODD_KEYS = ['__proto__', 'constructor', 'toString', '@type', 'fooBar', 'typed_config', 'name', ''];

type Node = Record<string, unknown> | unknown[];

function containers(root: unknown, out: Node[]): Node[] {
  if (Array.isArray(root)) {
    out.push(root);
    for (const v of root) containers(v, out);
  } else if (typeof root === 'object' && root !== null) {
    out.push(root as Record<string, unknown>);
    for (const v of Object.values(root)) containers(v, out);
  }
  return out;
}

function mutate(root: unknown, rnd: () => number): void {
  const nodes = containers(root, []);
  const node = nodes[Math.floor(rnd() * nodes.length)];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const odd = () => structuredClone(pick(ODD_VALUES));
  if (Array.isArray(node)) {
    const op = rnd();
    if (node.length > 0 && op < 0.3) node.splice(Math.floor(rnd() * node.length), 1);
    else if (node.length > 0 && op < 0.6) node.push(structuredClone(pick(node)));
    else node[Math.floor(rnd() * (node.length + 1))] = odd();
    return;
  }
  const keys = Object.keys(node);
  const op = rnd();
  if (keys.length > 0 && op < 0.3) delete node[pick(keys)];
  else if (keys.length > 0 && op < 0.75) node[pick(keys)] = odd();
  else
    Object.defineProperty(node, pick(ODD_KEYS), {
      value: odd(),
      enumerable: true,
      configurable: true,
      writable: true,
    });
}

test(`random mutations never escape as anything but config errors (${ITERATIONS} iterations)`, () => {
  const rnd = seededRandom(SEED);
  const registry = createDefaultHttpFilterRegistry();
  const base = parse(REALISTIC_BOOTSTRAP_YAML);
  let rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const cfg = structuredClone(base);
    const rounds = 1 + Math.floor(rnd() * 4);
    for (let m = 0; m < rounds; m++) mutate(cfg, rnd);
    let result: ReturnType<typeof validateBootstrap>;
    try {
      result = validateBootstrap(cfg, registry);
    } catch (err) {
      assert.fail(
        `iteration ${i} (seed ${SEED}): validateBootstrap threw ${String(err)}\n${JSON.stringify(cfg)}`,
      );
    }
    assert.equal(
      result.bootstrap === null,
      result.issues.length > 0,
      `iteration ${i}: bootstrap and issues disagree`,
    );
    for (const issue of result.issues) assert.equal(typeof issue.path, 'string');
    if (result.bootstrap === null) rejected++;

    // The text path too (every third iteration: YAML parsing dominates the run time): the
    // mutated tree as YAML, sometimes truncated mid-document.
    if (i % 3 !== 0) continue;
    let text = stringify(cfg);
    if (rnd() < 0.3) text = text.slice(0, Math.floor(rnd() * text.length));
    try {
      parseBootstrap(text, `fuzz-${i}.yaml`, registry);
    } catch (err) {
      assert.ok(
        err instanceof ConfigError || err instanceof WeftError,
        `iteration ${i}: unexpected ${String(err)}`,
      );
    }
  }
  // Most random edits must be caught; if nearly none are, the mutator or validator is broken.
  assert.ok(rejected > ITERATIONS / 2, `only ${rejected} of ${ITERATIONS} mutated configs were rejected`);
});
