// ASCII case-insensitive string comparisons for route matching, done in place.
//
// Envoy's `ignore_case` and `case_sensitive: false` fold ASCII letters only
// (absl::EqualsIgnoreCase / StartsWithIgnoreCase), so these helpers do the same and
// never allocate: the request side is compared char by char against a pattern that was
// lower-cased once at compile time.

/** Lower-cases one UTF-16 code unit if it is an ASCII capital letter. */
function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Lower-cases ASCII letters only (the compile-time side of the comparisons below). */
export function asciiLower(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      out += s.slice(from, i) + String.fromCharCode(c + 32);
      from = i + 1;
    }
  }
  return from === 0 ? s : out + s.slice(from);
}

/** True when `s` contains an ASCII capital letter. */
export function hasAsciiUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** Does `s[at, at + lower.length)` equal `lower` ignoring ASCII case? `lower` is pre-lowered. */
export function regionEqualsIgnoreCase(s: string, at: number, lower: string): boolean {
  if (at < 0 || at + lower.length > s.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (fold(s.charCodeAt(at + i)) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

export function equalsIgnoreCase(s: string, lower: string): boolean {
  return s.length === lower.length && regionEqualsIgnoreCase(s, 0, lower);
}

export function startsWithIgnoreCase(s: string, lower: string): boolean {
  return regionEqualsIgnoreCase(s, 0, lower);
}

export function endsWithIgnoreCase(s: string, lower: string): boolean {
  return regionEqualsIgnoreCase(s, s.length - lower.length, lower);
}

export function includesIgnoreCase(s: string, lower: string): boolean {
  const last = s.length - lower.length;
  for (let at = 0; at <= last; at++) {
    if (regionEqualsIgnoreCase(s, at, lower)) return true;
  }
  return false;
}
