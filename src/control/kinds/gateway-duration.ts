// Gateway API durations (GEP-2257): one to four `<1-5 digits><unit>` parts, units h, m, s,
// ms, e.g. "1h", "500ms", "1m30s". Weft's own DestinationPolicy uses the same syntax so a
// user writes durations one way in every Weft resource. Envoy wants proto3 JSON Durations
// ("1.5s"); `toEnvoyDuration` converts.

/** GEP-2257's pattern: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`. */
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or null when `text` is not a Gateway API duration. */
export function parseGatewayDuration(text: string): number | null {
  if (!GATEWAY_DURATION.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

export const DURATION_HINT = 'a Gateway API duration such as "500ms", "10s", "1m30s" (units h, m, s, ms)';

/** A proto3 JSON Duration: seconds with up to three fractional digits, e.g. "0.25s". */
export function toEnvoyDuration(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = Math.round(ms % 1000);
  if (frac === 0) return `${whole}s`;
  return `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}s`;
}
