// Reads a shop service's settings from its environment, once, at start-up. The variables
// are the ones `weft up` (or the test) provides: PORT for the listen port, and
// WEFT_UPSTREAM_<SERVICE>_URL for every service this one calls through its sidecar.
// Bad values stop the process with a message naming the variable, rather than being
// half-used later.

export interface ShopConfig {
  /** Which service this is (catalog, reviews, ...): used in logs and response headers. */
  readonly service: string;
  /** VERSION, default v1: shown in every response so canary routing is visible. */
  readonly version: string;
  /** HOST, default 127.0.0.1: the sidecar forwards to the app on loopback. */
  readonly host: string;
  /** PORT, default 0 (any free port; the bound port is printed on stdout). */
  readonly port: number;
  /** FAIL_RATE, 0..1, default 0: the fraction of requests answered 503 / UNAVAILABLE. */
  readonly failRate: number;
  /** DELAY_MS, default 0: added before every answer (health checks excepted). */
  readonly delayMs: number;
  /** UPSTREAM_TIMEOUT_MS, default 3000: how long a call to another service may take. */
  readonly upstreamTimeoutMs: number;
}

export class ShopConfigError extends Error {
  readonly code = 'SHOP_CONFIG_INVALID';
}

export function readShopConfig(service: string, env: NodeJS.ProcessEnv = process.env): ShopConfig {
  const version = env.VERSION ?? 'v1';
  if (!/^v[0-9]+$/.test(version))
    throw new ShopConfigError(`VERSION must look like v1, v2, ...; got '${version}'`);
  return Object.freeze({
    service,
    version,
    host: env.HOST ?? '127.0.0.1',
    port: readNumber(env, 'PORT', 0, 0, 65535, true),
    failRate: readNumber(env, 'FAIL_RATE', 0, 0, 1, false),
    delayMs: readNumber(env, 'DELAY_MS', 0, 0, 600_000, true),
    upstreamTimeoutMs: readNumber(env, 'UPSTREAM_TIMEOUT_MS', 3000, 1, 600_000, true),
  });
}

/**
 * The base URL of an upstream service, from WEFT_UPSTREAM_<NAME>_URL (NAME upper-cased, '-'
 * as '_'). Required: a service that cannot reach its upstreams should not start.
 */
export function upstreamUrl(name: string, env: NodeJS.ProcessEnv = process.env): URL {
  const variable = `WEFT_UPSTREAM_${name.toUpperCase().replace(/-/g, '_')}_URL`;
  const text = env[variable];
  if (text === undefined || text === '')
    throw new ShopConfigError(`${variable} is not set: this service calls '${name}' through that URL`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ShopConfigError(`${variable} is not a URL: '${text}'`);
  }
  if (url.protocol !== 'http:')
    throw new ShopConfigError(`${variable} must be an http:// URL, got '${text}'`);
  return url;
}

function readNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new ShopConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${text}'`,
    );
  return n;
}
