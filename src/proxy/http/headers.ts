// The header representation used across the proxy: a flat array
// [name0, value0, name1, value1, ...] with lower-cased names, in wire order.
// A flat array is what the HTTP/1 codec produces without extra allocation, keeps
// duplicates and order (RFC 9110 §5.3), and is cheap to scan for the few lookups a
// request needs. `host` is not in it: it travels as the request's `authority`.

export type HeaderList = string[];

/**
 * Shortens `list` to `length` entries. Popping is compiled inline, where assigning
 * `list.length` is a call into the V8 runtime (the array's length accessor): this runs on
 * every request and response, and usually removes a few entries at most.
 */
export function truncateList(list: unknown[], length: number): void {
  for (let n = list.length; n > length; n--) list.pop();
}

/** First value of `name` (lower-case), or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/** All values of `name` joined with ", " (RFC 9110 §5.3), or undefined when absent. */
export function getHeaderJoined(headers: HeaderList, name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) out = out === undefined ? headers[i + 1] : `${out}, ${headers[i + 1]}`;
  }
  return out;
}

export function hasHeader(headers: HeaderList, name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return true;
  return false;
}

/** Removes every `name` entry in place. */
export function removeHeader(headers: HeaderList, name: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] !== name) {
      // Nothing moves (and nothing is written) until the first match.
      if (w !== r) {
        headers[w] = headers[r];
        headers[w + 1] = headers[r + 1];
      }
      w += 2;
    }
  }
  truncateList(headers, w);
}

/** Keeps, in place, the entries whose name passes `keep`; returns how many were removed. */
export function retainHeaders(headers: HeaderList, keep: (name: string) => boolean): number {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (keep(headers[r])) {
      if (w !== r) {
        headers[w] = headers[r];
        headers[w + 1] = headers[r + 1];
      }
      w += 2;
    }
  }
  const removed = (headers.length - w) / 2;
  truncateList(headers, w);
  return removed;
}

/** Replaces all `name` entries with one (appended at the end when absent). */
export function setHeader(headers: HeaderList, name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      // drop later duplicates
      let w = i + 2;
      for (let r = i + 2; r < headers.length; r += 2) {
        if (headers[r] !== name) {
          headers[w] = headers[r];
          headers[w + 1] = headers[r + 1];
          w += 2;
        }
      }
      truncateList(headers, w);
      return;
    }
  }
  headers.push(name, value);
}

export function addHeader(headers: HeaderList, name: string, value: string): void {
  headers.push(name, value);
}
