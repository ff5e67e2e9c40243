// Text forms of the protobuf well-known types whose proto3 JSON mapping is a string:
// Duration, Timestamp, FieldMask, and base64 for bytes. Pure functions; each parser returns
// a message on success or an error string (the caller attaches the field path).
// Spec: https://protobuf.dev/programming-guides/proto3/#json (the "JSON Mapping" table).

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SecondsNanos {
  seconds: number;
  nanos: number;
}

/** ±10,000 years, the range google/protobuf/duration.proto allows. */
const MAX_DURATION_SECONDS = 315_576_000_000;

/** "1.5s", "-0.001s", "300s": seconds with up to nine fractional digits and an "s" suffix. */
export function parseDuration(text: string): Parsed<SecondsNanos> {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (m === null) return { ok: false, error: `invalid duration '${text}' (expected e.g. "1.5s")` };
  const sign = m[1] === '-' ? -1 : 1;
  const seconds = Number(m[2]);
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'));
  if (!Number.isSafeInteger(seconds) || seconds > MAX_DURATION_SECONDS) {
    return { ok: false, error: `duration '${text}' is out of range (at most ${MAX_DURATION_SECONDS}s)` };
  }
  // Both parts carry the sign, as duration.proto requires.
  return { ok: true, value: { seconds: sign * seconds || 0, nanos: sign * nanos || 0 } };
}

/** The spec's output form: 0, 3, 6 or 9 fractional digits, e.g. "1s", "1.500s", "0.000001s". */
export function formatDuration(d: SecondsNanos): string {
  const negative = d.seconds < 0 || d.nanos < 0;
  const seconds = Math.abs(d.seconds);
  const frac = formatNanos(Math.abs(d.nanos));
  return `${negative ? '-' : ''}${seconds}${frac}s`;
}

function formatNanos(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return `.${String(nanos / 1_000_000).padStart(3, '0')}`;
  if (nanos % 1_000 === 0) return `.${String(nanos / 1_000).padStart(6, '0')}`;
  return `.${String(nanos).padStart(9, '0')}`;
}

/** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z in seconds since the epoch (timestamp.proto). */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;

/** RFC 3339 with a "Z" or ±hh:mm offset and up to nine fractional digits. */
export function parseTimestamp(text: string): Parsed<SecondsNanos> {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(
    text,
  );
  if (m === null) return { ok: false, error: `invalid timestamp '${text}' (expected RFC 3339)` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 onto 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return { ok: false, error: `invalid timestamp '${text}' (no such date or time)` };
  }
  let seconds = date.getTime() / 1000;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60;
    seconds -= zone[0] === '+' ? offset : -offset;
  }
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    return { ok: false, error: `timestamp '${text}' is out of range` };
  }
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return { ok: true, value: { seconds, nanos } };
}

/** Always UTC with "Z" and 0, 3, 6 or 9 fractional digits, as the spec's output form. */
export function formatTimestamp(t: SecondsNanos): string {
  const iso = new Date(t.seconds * 1000).toISOString(); // yyyy-mm-ddThh:mm:ss.000Z
  return `${iso.slice(0, 19)}${formatNanos(t.nanos)}Z`;
}

/** FieldMask JSON is one string of lowerCamel paths joined by ","; the message holds snake_case paths. */
export function parseFieldMask(text: string): string[] {
  if (text === '') return [];
  return text.split(',').map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
}

export function formatFieldMask(paths: readonly string[]): string {
  return paths.map(lowerCamel).join(',');
}

/** proto field name -> its default JSON name (protoc's rule: drop '_' and upper-case the next letter). */
export function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Standard or URL-safe base64, padded or not (the spec accepts either on input). */
export function parseBase64(text: string): Parsed<Uint8Array> {
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    return { ok: false, error: 'invalid base64' };
  }
  return { ok: true, value: new Uint8Array(Buffer.from(text, 'base64')) };
}

/** Standard base64 with padding (the spec's output form). */
export function formatBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
