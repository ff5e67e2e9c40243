// Differential fuzz test: Weft's RequestParser against Node's own llhttp on generated
// requests (seeded PRNG; valid requests plus mutations aimed at framing and smuggling
// shapes). Both must agree on what they accept; where they disagree, Weft must be the
// one rejecting and the reason must be one of the documented "stricter on purpose"
// categories (docs/http1-parsing.md). A few documented exceptions go the other way
// (custom methods, identical duplicate Content-Length, trailing HTAB in framing
// headers, bytes after a non-keep-alive request) and are checked precisely.
//
// llhttp is reached without sockets through process.binding('http_parser').HTTPParser,
// the binding node:http itself uses (deprecated for users, present in Node 20; the
// deprecation warning is silenced around the lookup). It is the same parser, same
// strict flags (lenient = 0), with no socket or timing involved.
//
// WEFT_FUZZ_ITERATIONS=N (default 2000) and WEFT_FUZZ_SEED=S select the run.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import type { HeaderList } from '../http/headers.js';
import { parseRequests, type RecordedRequest } from './parse-recorder.js';
import type { ParserLimits } from './request-parser.js';

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 2000);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x5eed);
const LIMITS: ParserLimits = { maxHeaderBytes: 60 * 1024, maxHeaderCount: 100, acceptHttp10: true };

/**
 * Weft rejects, llhttp accepts: allowed only for these details tokens. Each is a
 * deliberate strictness (see docs/http1-parsing.md, "Stricter than llhttp").
 */
const WEFT_STRICTER: Readonly<Record<string, string>> = {
  'http1.missing_host': 'HTTP/1.1 without Host is refused (RFC 9112 §3.2 MUST)',
  'http1.multiple_host': 'several Host fields are refused (RFC 9112 §3.2 MUST)',
  'http1.invalid_host': 'Host must be a valid authority (no spaces, userinfo, paths, empty)',
  'http1.invalid_url': 'target must match its form; no userinfo; * only for OPTIONS',
  'http1.invalid_transfer_encoding':
    'every Transfer-Encoding element must be a bare token (no params, no empty elements)',
  'http1.chunked_not_final': 'chunked must be the final coding in a request (RFC 9112 §6.3)',
  'http1.unsupported_transfer_encoding': 'only plain chunked is implemented (gzip, chunked -> 501)',
  'http1.transfer_encoding_in_http10': 'Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 §6.1)',
  'http1.chunk_size_overflow': 'more than 16 hex digits, even with leading zeros',
  'http1.invalid_chunk_extension': 'empty chunk-ext names (;;) are refused',
  'http1.invalid_characters': 'DEL and other CTLs in values are refused (field-vchar only)',
  'http1.missing_colon': 'empty field names are refused',
  'http1.invalid_content_length': 'Content-Length lists with empty elements are refused',
  'http1.whitespace_line': 'whitespace-started line after the request line',
  'http1.obs_fold': 'obs-fold is refused (RFC 9112 §5.2 allows rejecting)',
  'http1.bare_cr': 'bare CR anywhere is refused',
  'http1.bare_lf': 'LF-only line endings are refused',
  'http1.codec_error': 'request-line shape (e.g. trailing text after the version)',
};

interface OracleMessage {
  method: string;
  target: string;
  versionMinor: number;
  headers: string[];
  body: Buffer;
  trailers: string[] | null;
  complete: boolean;
  upgrade: boolean;
}

interface OracleResult {
  messages: OracleMessage[];
  error: string | null;
}

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string });
  finish(): undefined | (Error & { code: string });
  [key: number]: unknown;
}

interface LlhttpBinding {
  methods: string[];
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
  };
}

function loadLlhttp(): LlhttpBinding {
  const prev = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return (process as unknown as { binding(name: string): LlhttpBinding }).binding('http_parser');
  } finally {
    process.noDeprecation = prev;
  }
}

function createOracle(binding: LlhttpBinding) {
  const P = binding.HTTPParser;
  const parser = new P();
  let messages: OracleMessage[] = [];
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let inHead = true;
  let parts: Buffer[] = [];
  parser[P.kOnHeaders] = (headers: string[], url: string) => {
    if (inHead) {
      pendingHeaders.push(...headers);
      pendingUrl += url ?? '';
    } else {
      const m = messages[messages.length - 1];
      m.trailers = (m.trailers ?? []).concat(headers);
    }
  };
  parser[P.kOnHeadersComplete] = (
    _major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: unknown,
    _reason: unknown,
    upgrade: boolean,
  ) => {
    messages.push({
      method: binding.methods[method],
      target: url ?? pendingUrl,
      versionMinor: minor,
      headers: headers ?? pendingHeaders,
      body: Buffer.alloc(0),
      trailers: null,
      complete: false,
      upgrade,
    });
    pendingHeaders = [];
    pendingUrl = '';
    inHead = false;
    parts = [];
    return 0;
  };
  parser[P.kOnBody] = (b: Buffer) => {
    parts.push(Buffer.from(b));
  };
  parser[P.kOnMessageComplete] = () => {
    const m = messages[messages.length - 1];
    m.body = Buffer.concat(parts);
    m.complete = true;
    inHead = true;
  };
  parser[P.kOnExecute] = () => {};
  return {
    parse(buf: Buffer): OracleResult {
      messages = [];
      pendingHeaders = [];
      pendingUrl = '';
      inHead = true;
      parser.initialize(P.REQUEST, {}, 80 * 1024, 0);
      const r = parser.execute(buf);
      if (typeof r !== 'number') return { messages, error: r.code };
      const f = parser.finish();
      return { messages, error: f === undefined ? null : f.code };
    },
  };
}

// --- generator ---------------------------------------------------------------------------

type Rand = () => number;

const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];
const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const PATH_CHARS = "abcXYZ019-._~%!$&'()*+,;=:@/";
const VALUE_CHARS = 'abc XYZ 019\t-_.,;:="/\\()<>@[]{}?\x80\xe9\xff';
const EDGE = ['\x00', '\t', '\n', '\x0b', '\x0c', '\r', ' ', '\x7f', '\x80', '\xff', ':', ',', '"', ';', 'A'];
const RISKY_LINES = [
  'Content-Length: 5',
  'Content-Length: 0',
  'Content-Length: 5, 5',
  'Content-Length: 0, 5',
  'Content-Length: +5',
  'Content-Length: 05',
  'Content-Length : 5',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: xchunked',
  'Transfer-Encoding:  chunked ',
  'Transfer-Encoding: chunked, identity',
  'Transfer-Encoding: identity, chunked',
  'Transfer-Encoding: gzip, chunked',
  'Transfer-Encoding: CHUNKED',
  'Transfer-Encoding\t: chunked',
  'Transfer-Encoding: ,chunked',
  'Host: other',
  'X: a\x00b',
  'X: a\x7fb',
  ': empty-name',
  'Connection: close',
];

function str(r: Rand, chars: string, min: number, max: number): string {
  let s = '';
  const n = min + int(r, max - min + 1);
  for (let i = 0; i < n; i++) s += chars[int(r, chars.length)];
  return s;
}

function genRequest(r: Rand): string {
  const method = pick(r, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
  let target = `/${str(r, PATH_CHARS, 0, 12)}`;
  if (r() < 0.3) target += `?${str(r, PATH_CHARS, 0, 8)}`;
  if (r() < 0.05) target = `http://${pick(r, ['a.example', 'h:8080'])}${target}`;
  const version = r() < 0.1 ? '1.0' : '1.1';
  const fields: string[] = [];
  if (r() < 0.93) fields.push(`Host: ${pick(r, ['example.com', 'a.b:8080', '[::1]:80', 'h'])}`);
  const n = int(r, 7);
  for (let i = 0; i < n; i++) {
    const name =
      r() < 0.5
        ? pick(r, ['Accept', 'user-agent', 'X-Custom', 'x-a', 'Cookie', 'Expect'])
        : str(r, TOKEN_CHARS, 1, 10);
    let value = str(r, VALUE_CHARS, 0, 16);
    if (r() < 0.2) value = ` ${value} `;
    fields.push(`${name}:${r() < 0.8 ? ' ' : ''}${value}`);
  }
  let body = '';
  const kind = r();
  if (kind < 0.35 && method !== 'HEAD') {
    body = str(r, VALUE_CHARS, 0, 20);
    fields.splice(int(r, fields.length + 1), 0, `Content-Length: ${body.length}`);
  } else if (kind < 0.7 && method !== 'HEAD') {
    fields.splice(int(r, fields.length + 1), 0, `Transfer-Encoding: ${pick(r, ['chunked', 'Chunked'])}`);
    const chunks = int(r, 4);
    for (let i = 0; i < chunks; i++) {
      const data = str(r, VALUE_CHARS, 1, 20);
      let size = data.length.toString(16);
      if (r() < 0.1) size = `00${size.toUpperCase()}`;
      const ext = r() < 0.2 ? pick(r, [';a=b', ';n="q s"', ';x', ';a=1;b']) : '';
      body += `${size}${ext}\r\n${data}\r\n`;
    }
    body += '0\r\n';
    if (r() < 0.2) body += `X-Trailer: ${str(r, VALUE_CHARS, 0, 8)}\r\n`;
    body += '\r\n';
  }
  return `${method} ${target} HTTP/${version}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n${body}`;
}

function mutate(r: Rand, s: string): string {
  const at = () => int(r, s.length + 1);
  switch (int(r, 9)) {
    case 0: {
      const i = at();
      return s.slice(0, i) + pick(r, EDGE) + s.slice(i);
    }
    case 1: {
      const i = int(r, s.length);
      return s.slice(0, i) + s.slice(i + 1);
    }
    case 2: {
      const i = int(r, s.length);
      return s.slice(0, i) + pick(r, EDGE) + s.slice(i + 1);
    }
    case 3:
      return replaceNth(r, s, '\r\n', '\n');
    case 4:
      return replaceNth(r, s, '\r\n', '\r\n ');
    case 5: {
      const i = s.indexOf('\r\n') + 2;
      return `${s.slice(0, i)}${pick(r, RISKY_LINES)}\r\n${s.slice(i)}`;
    }
    case 6: {
      const lines = s.split('\r\n');
      const headEnd = lines.indexOf('');
      if (headEnd < 2) return s;
      const k = 1 + int(r, headEnd - 1);
      lines.splice(k, 0, lines[k]);
      return lines.join('\r\n');
    }
    case 7:
      return s + genRequest(r);
    default:
      return s.replace(/\r\n([0-9a-fA-F]+)(;|\r\n)/, (_m, size: string, tail: string) => {
        const v = pick(r, [
          ` ${size}`,
          `${size} `,
          `+${size}`,
          `0x${size}`,
          `-${size}`,
          'fffffffffffffffffff',
          `${size};`,
          `${size};;a`,
        ]);
        return `\r\n${v}${tail}`;
      });
  }
}

function replaceNth(r: Rand, s: string, what: string, by: string): string {
  const idx: number[] = [];
  for (let i = s.indexOf(what); i !== -1; i = s.indexOf(what, i + 1)) idx.push(i);
  if (idx.length === 0) return s;
  const i = pick(r, idx);
  return s.slice(0, i) + by + s.slice(i + what.length);
}

// --- comparison ---------------------------------------------------------------------------

function normalizeHeaders(h: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i].toLowerCase();
    if (name === 'host') continue;
    const v = h[i + 1];
    out.push(name, name === 'content-length' && /^\d+$/.test(v) ? String(Number(v)) : v);
  }
  return out;
}

function hostOf(h: readonly string[]): string {
  for (let i = 0; i < h.length; i += 2) if (h[i].toLowerCase() === 'host') return h[i + 1];
  return '';
}

function compareMessage(w: RecordedRequest, o: OracleMessage, input: string): void {
  const ctx = JSON.stringify(input);
  assert.equal(w.head.method, o.method, ctx);
  assert.equal(w.head.target, o.target, ctx);
  assert.equal(w.head.versionMinor, o.versionMinor, ctx);
  assert.deepEqual(normalizeHeaders(w.head.headers), normalizeHeaders(o.headers), ctx);
  if (w.head.target.startsWith('/')) assert.equal(w.head.authority, hostOf(o.headers), ctx);
  assert.equal(w.complete, o.complete, ctx);
  assert.deepEqual(w.body, o.body, ctx);
  assert.deepEqual(
    normalizeHeaders((w.trailers as HeaderList | null) ?? []),
    normalizeHeaders(o.trailers ?? []),
    ctx,
  );
}

/** llhttp rejects, Weft accepts: only these documented shapes are allowed. */
function llhttpStricterReason(
  code: string,
  input: string,
  weft: RecordedRequest[],
  knownMethods: string[],
): string | null {
  if (code === 'HPE_INVALID_METHOD' && weft.some((m) => !knownMethods.includes(m.head.method))) {
    return 'custom method (any token is a valid method, RFC 9110 §9.1)';
  }
  if (code === 'HPE_CLOSED_CONNECTION' && weft.slice(0, -1).some((m) => !m.head.keepAlive)) {
    // Not a parsing difference: llhttp refuses bytes after a non-keep-alive message; Weft
    // parses them and leaves closing to the connection manager (which reads keepAlive).
    return 'data after a keepAlive=false message';
  }
  if (
    (code === 'HPE_INVALID_CONTENT_LENGTH' || code === 'HPE_INVALID_TRANSFER_ENCODING') &&
    /\r\n(content-length|transfer-encoding):[^\r\n]*\t\r\n/i.test(input)
  ) {
    return 'trailing HTAB after a Content-Length/Transfer-Encoding value (OWS, RFC 9110 §5.5)';
  }
  if (code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || code === 'HPE_INVALID_CONTENT_LENGTH') {
    // Per head (split at empty lines): several Content-Length values, all the same.
    for (const block of input.split('\r\n\r\n')) {
      const cls = [...block.matchAll(/\r\ncontent-length:[ \t]*([^\r\n]*)/gi)].map((m) => m[1]);
      const values = cls.flatMap((v) => v.split(',').map((x) => x.trim()));
      if (values.length > 1 && values.every((v) => Number(v) === Number(values[0]))) {
        return 'identical duplicate Content-Length collapsed (RFC 9110 §8.6)';
      }
    }
  }
  return null;
}

it(`agrees with llhttp on ${ITERATIONS} generated requests (seed ${SEED})`, (t) => {
  const binding = loadLlhttp();
  const oracle = createOracle(binding);
  const r = seededRandom(SEED);
  const tally: Record<string, number> = {};
  let agreeAccept = 0;
  let agreeReject = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    let input = genRequest(r);
    const mutations = r() < 0.6 ? 1 + int(r, 2) : 0;
    for (let k = 0; k < mutations; k++) input = mutate(r, input);
    const buf = Buffer.from(input, 'latin1');
    const o = oracle.parse(buf);
    if (o.messages.some((m) => m.upgrade)) continue; // llhttp stops at upgrades; not compared
    // Feed Weft in two pieces at a random cut, so splitting is fuzzed too.
    const w = parseRequests(buf, [int(r, buf.length + 1)], LIMITS, true);
    const wOk = w.error === null;
    const oOk = o.error === null;
    const wDone = w.messages.filter((m) => m.complete);
    const oDone = o.messages.filter((m) => m.complete);
    // Messages both completed must be identical, whatever happens after them.
    for (let k = 0; k < Math.min(wDone.length, oDone.length); k++) compareMessage(wDone[k], oDone[k], input);
    if (wOk && oOk) {
      assert.equal(wDone.length, oDone.length, JSON.stringify(input));
      agreeAccept++;
    } else if (!wOk && !oOk) {
      agreeReject++;
    } else if (!wOk) {
      const details = w.error!.details;
      assert.ok(
        WEFT_STRICTER[details] !== undefined,
        `Weft rejects (${details}: ${w.error!.message}) what llhttp accepts: ${JSON.stringify(input)}`,
      );
      tally[`weft-stricter ${details}`] = (tally[`weft-stricter ${details}`] ?? 0) + 1;
      if (process.env.WEFT_FUZZ_SHOW === details) t.diagnostic(JSON.stringify(input));
    } else {
      const reason = llhttpStricterReason(o.error!, input, w.messages, binding.methods);
      assert.ok(reason !== null, `llhttp rejects (${o.error}) what Weft accepts: ${JSON.stringify(input)}`);
      tally[`llhttp-stricter ${reason}`] = (tally[`llhttp-stricter ${reason}`] ?? 0) + 1;
    }
  }
  t.diagnostic(`both accept ${agreeAccept}, both reject ${agreeReject}`);
  for (const [k, v] of Object.entries(tally)) t.diagnostic(`${k}: ${v}`);
  // The generator must exercise both sides, or the test proves nothing.
  assert.ok(agreeAccept > ITERATIONS / 5, `only ${agreeAccept} accepted cases`);
  assert.ok(agreeReject > ITERATIONS / 10, `only ${agreeReject} rejected cases`);
});
