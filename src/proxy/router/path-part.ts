// Where the path part of a request target ends (RFC 3986 §3.3: the path is terminated by
// the first "?" or "#"). Envoy matches routes on the path without query and fragment
// (Http::PathUtil::removeQueryAndFragment); we keep indexes instead of slicing.

/** Index of the first "?" or "#" in `target`, or its length. */
export function pathPartEnd(target: string): number {
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  if (q < 0) return h < 0 ? target.length : h;
  return h >= 0 && h < q ? h : q;
}
