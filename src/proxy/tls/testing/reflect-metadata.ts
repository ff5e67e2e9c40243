// The few `Reflect` metadata functions tsyringe (a dependency of @peculiar/x509) checks
// for at load. The polyfill package it expects is not installed and Weft adds no
// packages, so tests that make certificates import this module before @peculiar/x509.
// Metadata is kept per (target, property) in WeakMaps.

type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function table(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const getOwnMetadata = (key: unknown, target: object, property?: Key): unknown =>
    table(target, property, false)?.get(key);
  const getMetadata = (key: unknown, target: object, property?: Key): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t)) {
      const m = table(t, property, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: unknown, value: unknown, target: object, property?: Key): void => {
    table(target, property, true)!.set(key, value);
  };
  R.getOwnMetadata = getOwnMetadata;
  R.getMetadata = getMetadata;
  R.defineMetadata = defineMetadata;
  R.hasMetadata = (key: unknown, target: object, property?: Key) =>
    getMetadata(key, target, property) !== undefined;
  R.metadata =
    (key: unknown, value: unknown) =>
    (target: object, property?: Key): void =>
      defineMetadata(key, value, target, property);
}

export {};
