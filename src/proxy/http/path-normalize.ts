// Request path normalization before routing, after Envoy's HTTP connection manager
// (`normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action`), so that a route
// or a policy matching `/admin` also sees `/public/../admin`, `//admin` and `/%2e%2e/admin`.
// Only the path part of the target is touched; the query string is kept as it came.
// In Envoy's order:
// 1. escaped slashes (`%2F`, `%5C`, any case): kept; or the request is refused (400); or they
//    are unescaped and the request goes on, or gets a 307 redirect to the unescaped path;
// 2. normalize_path: RFC 3986 §5.2.4 remove_dot_segments, with `%2e` counted as `.`
//    (`..` never climbs above the root);
// 3. merge_slashes: runs of `/` become one.
// Envoy's canonicalizer (Chromium's) also re-escapes characters; Weft's parser has already
// refused the ones that are not valid in a request target, so only dot segments remain.

export type EscapedSlashesAction =
  | 'KEEP_UNCHANGED'
  | 'REJECT_REQUEST'
  | 'UNESCAPE_AND_REDIRECT'
  | 'UNESCAPE_AND_FORWARD';

export interface PathNormalization {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

export type NormalizedPath =
  | { readonly action: 'continue'; readonly path: string }
  | { readonly action: 'redirect'; readonly path: string }
  | { readonly action: 'reject' };

/** `%2F`, `%2f`, `%5C`, `%5c` in `path` (no query) replaced by `/` and `\`; null when there are none. */
export function unescapeSlashes(path: string): string | null {
  if (!/%(2f|5c)/i.test(path)) return null;
  return path.replace(/%(2f|5c)/gi, (m) => (m[1] === '2' ? '/' : '\\'));
}

/** A segment that means `.` or `..` once `%2e` is read as `.`: 1, 2, else 0. */
function dots(segment: string): number {
  if (segment.length === 0 || segment.length > 6) return 0;
  const s = segment.replace(/%2e/gi, '.');
  return s === '.' ? 1 : s === '..' ? 2 : 0;
}

/** RFC 3986 §5.2.4 on an absolute path (`/...`), `%2e` read as `.`. */
export function removeDotSegments(path: string): string {
  if (path.indexOf('.') < 0 && !/%2e/i.test(path)) return path;
  const segments = path.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading '/'.
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const d = dots(seg);
    const last = i === segments.length - 1;
    if (d === 1) {
      if (last) out.push('');
    } else if (d === 2) {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}

/** Runs of `/` in `path` become one. */
export function mergeSlashes(path: string): string {
  return path.indexOf('//') < 0 ? path : path.replace(/\/{2,}/g, '/');
}

/**
 * Applies `config` to a request target. Targets that are not a path (`*`, an authority for
 * CONNECT, an absolute URI already reduced by the parser) are returned as they are.
 */
export function normalizeRequestPath(target: string, config: PathNormalization): NormalizedPath {
  if (target.charCodeAt(0) !== 0x2f /* / */) return { action: 'continue', path: target };
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  let redirect = false;
  if (config.escapedSlashes !== 'KEEP_UNCHANGED') {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== null) {
      if (config.escapedSlashes === 'REJECT_REQUEST') return { action: 'reject' };
      path = unescaped;
      redirect = config.escapedSlashes === 'UNESCAPE_AND_REDIRECT';
    }
  }
  if (config.normalizePath) path = removeDotSegments(path);
  if (config.mergeSlashes) path = mergeSlashes(path);
  return { action: redirect ? 'redirect' : 'continue', path: path + query };
}
