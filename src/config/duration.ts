// Parsing of `google.protobuf.Duration` values as they appear in Envoy's JSON/YAML config.
//
// The proto3 JSON mapping writes a Duration as a decimal number of seconds with an `s`
// suffix and at most nine fractional digits ("5s", "0.25s", "1.000340012s"); the message
// form `{seconds, nanos}` is accepted too because YAML users sometimes write it. Anything
// else ("5ms", "1m", a bare number) is rejected with a message saying how to write it,
// because Envoy rejects those too and silently guessing a unit would be worse.

/** Largest Duration the proto allows: 10,000 years in seconds (google/protobuf/duration.proto). */
const MAX_SECONDS = 315_576_000_000;

const DURATION_TEXT = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const INTEGER_TEXT = /^-?\d+$/;

export type DurationResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly error: string };

function fail(error: string): DurationResult {
  return { ok: false, error };
}

/** Parses a proto Duration (string or `{seconds, nanos}`) into milliseconds (may be fractional). */
export function parseDuration(value: unknown): DurationResult {
  if (typeof value === 'string') return parseDurationText(value);
  if (typeof value === 'number') {
    return fail(`a duration is a string of seconds with an "s" suffix, e.g. "${value}s", not a bare number`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return parseDurationMessage(value as Record<string, unknown>);
  }
  return fail(`expected a duration such as "5s" or "0.25s", got ${value === null ? 'null' : typeof value}`);
}

function parseDurationText(text: string): DurationResult {
  const m = DURATION_TEXT.exec(text);
  if (m === null) {
    const hint = /^\d+(\.\d+)?(ms|us|ns|m|h)$/.test(text)
      ? ' (only seconds are accepted: write e.g. "0.005s" for 5 ms, "60s" for 1 minute)'
      : '';
    return fail(`'${text}' is not a duration; write seconds with an "s" suffix, e.g. "5s" or "0.25s"${hint}`);
  }
  if (m[1] !== undefined) return fail(`'${text}': a negative duration is not allowed here`);
  const seconds = Number(m[2]);
  if (seconds > MAX_SECONDS) return fail(`'${text}' is longer than the largest duration allowed`);
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'));
  return { ok: true, ms: seconds * 1000 + nanos / 1e6 };
}

function parseDurationMessage(obj: Record<string, unknown>): DurationResult {
  for (const key of Object.keys(obj)) {
    if (key !== 'seconds' && key !== 'nanos')
      return fail(`a duration object has only 'seconds' and 'nanos', not '${key}'`);
  }
  const seconds = integerOf(obj.seconds ?? 0);
  const nanos = integerOf(obj.nanos ?? 0);
  if (seconds === null) return fail("'seconds' must be an integer");
  if (nanos === null) return fail("'nanos' must be an integer");
  if (seconds < 0 || nanos < 0) return fail('a negative duration is not allowed here');
  if (seconds > MAX_SECONDS) return fail('the duration is longer than the largest duration allowed');
  if (nanos > 999_999_999) return fail("'nanos' must be below 1000000000");
  return { ok: true, ms: seconds * 1000 + nanos / 1e6 };
}

/** Integer fields (int32/int64/uint32...) may be JSON numbers or decimal strings (proto3 JSON mapping). */
export function integerOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}
