// Handlers that record what the HTTP/1 parsers emit, plus one-call helpers that feed a
// message in given pieces. Used by the codec's unit, corpus and fuzz tests; not on the
// data path (it copies every body chunk).

import type { HeaderList } from '../http/headers.js';
import {
  DEFAULT_PARSER_LIMITS,
  type HttpParseError,
  type ParserLimits,
  type RequestHandler,
  type RequestHead,
  RequestParser,
} from './request-parser.js';
import { type ResponseHandler, type ResponseHead, ResponseParser } from './response-parser.js';

export interface RecordedRequest {
  head: RequestHead;
  body: Buffer;
  trailers: HeaderList | null;
  complete: boolean;
}

export class RequestRecorder implements RequestHandler {
  readonly messages: RecordedRequest[] = [];
  /** onMessageComplete() returns this (pause after each message when true). */
  pauseAfterEach = false;
  private parts: Buffer[] = [];

  onRequestHead(head: RequestHead): void {
    this.messages.push({ head, body: Buffer.alloc(0), trailers: null, complete: false });
    this.parts = [];
  }

  onBody(chunk: Buffer): void {
    this.parts.push(Buffer.from(chunk));
  }

  onRequestTrailers(trailers: HeaderList): void {
    this.messages[this.messages.length - 1].trailers = trailers;
  }

  onMessageComplete(): boolean {
    const m = this.messages[this.messages.length - 1];
    m.body = Buffer.concat(this.parts);
    m.complete = true;
    return this.pauseAfterEach;
  }
}

export interface RequestParseResult {
  messages: RecordedRequest[];
  error: HttpParseError | null;
  /** Total bytes consumed over all execute() calls. */
  consumed: number;
}

/**
 * Feeds `input` to a fresh RequestParser cut at the given offsets (ascending), then
 * calls finish() when `eof` is set.
 */
export function parseRequests(
  input: Buffer | string,
  cuts: readonly number[] = [],
  limits: ParserLimits = DEFAULT_PARSER_LIMITS,
  eof = false,
): RequestParseResult {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const rec = new RequestRecorder();
  const parser = new RequestParser(rec, limits);
  let consumed = 0;
  let prev = 0;
  for (const cut of [...cuts, buf.length]) {
    if (cut < prev) continue;
    const piece = buf.subarray(prev, cut);
    prev = cut;
    const n = parser.execute(piece);
    consumed += n;
    if (parser.error !== null) break;
  }
  if (eof && parser.error === null) parser.finish();
  return { messages: rec.messages, error: parser.error, consumed };
}

export interface RecordedResponse {
  head: ResponseHead;
  body: Buffer;
  trailers: HeaderList | null;
  complete: boolean;
}

export class ResponseRecorder implements ResponseHandler {
  readonly messages: RecordedResponse[] = [];
  readonly informational: ResponseHead[] = [];
  private parts: Buffer[] = [];

  onResponseHead(head: ResponseHead): void {
    this.messages.push({ head, body: Buffer.alloc(0), trailers: null, complete: false });
    this.parts = [];
  }

  onBody(chunk: Buffer): void {
    this.parts.push(Buffer.from(chunk));
  }

  onResponseTrailers(trailers: HeaderList): void {
    this.messages[this.messages.length - 1].trailers = trailers;
  }

  onMessageComplete(): void {
    const m = this.messages[this.messages.length - 1];
    m.body = Buffer.concat(this.parts);
    m.complete = true;
  }

  onInformational(head: ResponseHead): void {
    this.informational.push(head);
  }
}

export function createResponseParser(limits: ParserLimits = DEFAULT_PARSER_LIMITS): {
  parser: ResponseParser;
  rec: ResponseRecorder;
} {
  const rec = new ResponseRecorder();
  return { parser: new ResponseParser(rec, limits), rec };
}
