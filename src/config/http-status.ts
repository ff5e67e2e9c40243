// `envoy.type.v3.HttpStatus`: `{code: StatusCode}`, where the code is a number or, in the
// proto's JSON mapping (what xDS delivers), the StatusCode enum's name. One reader for the
// places that take it (local rate limit, original IP detection).

import { describe, type FieldReader } from './fields.js';

/** envoy.type.v3.StatusCode names (envoy/type/v3/http_status.proto). */
const STATUS_CODE_NAMES: Readonly<Record<string, number>> = {
  Continue: 100,
  OK: 200,
  Created: 201,
  Accepted: 202,
  NonAuthoritativeInformation: 203,
  NoContent: 204,
  ResetContent: 205,
  PartialContent: 206,
  MultiStatus: 207,
  AlreadyReported: 208,
  IMUsed: 226,
  MultipleChoices: 300,
  MovedPermanently: 301,
  Found: 302,
  SeeOther: 303,
  NotModified: 304,
  UseProxy: 305,
  TemporaryRedirect: 307,
  PermanentRedirect: 308,
  BadRequest: 400,
  Unauthorized: 401,
  PaymentRequired: 402,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  ProxyAuthenticationRequired: 407,
  RequestTimeout: 408,
  Conflict: 409,
  Gone: 410,
  LengthRequired: 411,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  URITooLong: 414,
  UnsupportedMediaType: 415,
  RangeNotSatisfiable: 416,
  ExpectationFailed: 417,
  MisdirectedRequest: 421,
  UnprocessableEntity: 422,
  Locked: 423,
  FailedDependency: 424,
  UpgradeRequired: 426,
  PreconditionRequired: 428,
  TooManyRequests: 429,
  RequestHeaderFieldsTooLarge: 431,
  InternalServerError: 500,
  NotImplemented: 501,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
  HTTPVersionNotSupported: 505,
  VariantAlsoNegotiates: 506,
  InsufficientStorage: 507,
  LoopDetected: 508,
  NotExtended: 510,
  NetworkAuthenticationRequired: 511,
};

/**
 * Reads the HttpStatus message `name` of `r`: its `code` as a number (a StatusCode name or
 * a number 100-599); null when the message is absent or its code is not valid (recorded).
 */
export function readHttpStatus(r: FieldReader, name: string): number | null {
  const s = r.message(name);
  if (s === null) return null;
  const raw = s.take('code');
  s.done();
  if (typeof raw === 'string' && Object.hasOwn(STATUS_CODE_NAMES, raw)) return STATUS_CODE_NAMES[raw];
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599) return n;
  s.issue(
    'code',
    `expected an HTTP status code (100-599, or a StatusCode name such as Forbidden), got ${describe(raw)}`,
  );
  return null;
}
