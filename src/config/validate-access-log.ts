// Validation of `envoy.config.accesslog.v3.AccessLog` with the stdout, stderr and file
// loggers (envoy.extensions.access_loggers.{stream,file}.v3), and of the
// SubstitutionFormatString they take (envoy.config.core.v3.SubstitutionFormatString).

import type { ConfigIssue } from '../core/errors.js';
import { type FieldReader, isPlainObject, type RawObject, readMessage } from './fields.js';
import type { AccessLog } from './model.js';
import { readAccessLogFilter } from './validate-access-log-filter.js';

/**
 * Envoy's default access log format, used when a logger gives no format
 * (Envoy docs: "Access logging > Default format string"). It ends with a newline.
 */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

export const STDOUT_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
export const STDERR_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';
export const FILE_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

type Format = AccessLog['format'];
const DEFAULT_FORMAT: Format = { kind: 'text', format: DEFAULT_ACCESS_LOG_FORMAT };

/** Validates one AccessLog entry at `path`. */
export function validateAccessLog(raw: unknown, path: string, issues: ConfigIssue[]): AccessLog {
  const r = readMessage(raw, path, issues);
  const givenName = r.string('name');
  const tc = r.requiredMessage('typed_config');
  const typeUrl = tc.requiredString('@type');
  let sink: AccessLog['sink'] = { kind: 'stdout' };
  let format: Format = DEFAULT_FORMAT;
  let defaultName = 'envoy.access_loggers.stdout';
  if (typeUrl === STDOUT_ACCESS_LOG_TYPE || typeUrl === STDERR_ACCESS_LOG_TYPE) {
    const stderr = typeUrl === STDERR_ACCESS_LOG_TYPE;
    sink = stderr ? { kind: 'stderr' } : { kind: 'stdout' };
    defaultName = stderr ? 'envoy.access_loggers.stderr' : 'envoy.access_loggers.stdout';
    const lf = tc.message('log_format');
    if (lf !== null) format = readSubstitutionFormat(lf);
  } else if (typeUrl === FILE_ACCESS_LOG_TYPE) {
    defaultName = 'envoy.access_loggers.file';
    sink = { kind: 'file', path: tc.requiredString('path') };
    const which = tc.oneOf(['format', 'json_format', 'log_format'], 'format, json_format, log_format');
    if (which === 'format') {
      format = { kind: 'text', format: tc.string('format') ?? '' };
    } else if (which === 'json_format') {
      const json = tc.struct('json_format');
      if (json !== null)
        format = {
          kind: 'json',
          json: checkJsonFormat(json, tc.at('json_format'), issues),
          omitEmptyValues: false,
        };
    } else if (which === 'log_format') {
      const lf = tc.message('log_format');
      if (lf !== null) format = readSubstitutionFormat(lf);
    }
    // Read the others too so a conflicting duplicate is reported once (by oneOf), not as unsupported.
    tc.ignore('format');
    tc.ignore('json_format');
    tc.ignore('log_format');
  } else if (typeUrl !== '') {
    tc.issue(
      '@type',
      `unsupported access logger type '${typeUrl}'; supported: ${STDOUT_ACCESS_LOG_TYPE}, ${STDERR_ACCESS_LOG_TYPE}, ${FILE_ACCESS_LOG_TYPE}`,
    );
    // The rest of an unknown logger's config cannot be judged field by field.
    tc.ignoreRest();
    defaultName = typeUrl;
  }
  const filter = r.has('filter') ? readAccessLogFilter(r.take('filter'), r.at('filter'), issues) : null;
  r.done();
  return { name: givenName || defaultName, sink, format, ...(filter === null ? {} : { filter }) };
}

/** `SubstitutionFormatString`: exactly one of text_format, text_format_source, json_format. */
function readSubstitutionFormat(lf: FieldReader): Format {
  const which = lf.oneOf(
    ['text_format', 'text_format_source', 'json_format'],
    'text_format, text_format_source, json_format',
  );
  const omitEmptyValues = lf.boolean('omit_empty_values', false);
  let format: Format = DEFAULT_FORMAT;
  if (which === 'text_format') {
    format = { kind: 'text', format: lf.string('text_format') ?? '' };
  } else if (which === 'text_format_source') {
    const src = lf.message('text_format_source');
    if (src !== null) format = { kind: 'text', format: src.requiredString('inline_string') };
  } else if (which === 'json_format') {
    const json = lf.struct('json_format');
    if (json !== null)
      format = {
        kind: 'json',
        json: checkJsonFormat(json, lf.at('json_format'), lf.issues),
        omitEmptyValues,
      };
  } else {
    lf.issue(null, 'one of text_format, text_format_source or json_format is required');
  }
  lf.ignore('text_format');
  lf.ignore('text_format_source');
  lf.ignore('json_format');
  if (omitEmptyValues && format.kind === 'text') {
    lf.issue('omit_empty_values', 'is supported only with json_format in Weft');
  }
  return format;
}

/** JSON format values are strings (with %OPERATORS%), numbers, booleans or nested objects. */
function checkJsonFormat(json: RawObject, path: string, issues: ConfigIssue[]): RawObject {
  for (const [key, value] of Object.entries(json)) {
    const p = `${path}.${key}`;
    if (isPlainObject(value)) checkJsonFormat(value, p, issues);
    else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      issues.push({ path: p, message: 'a json_format value must be a string, number, boolean or object' });
    }
  }
  return json;
}
