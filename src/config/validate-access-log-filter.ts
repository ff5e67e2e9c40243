// `envoy.config.accesslog.v3.AccessLogFilter`: the filters that decide which requests an
// access log records (log only errors, slow requests, a sample...). Weft has no runtime, so
// a RuntimeUInt32's `default_value` is the value and `runtime_key` is accepted unused.

import type { ConfigIssue } from '../core/errors.js';
import { describe, type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { AccessLogFilter, ComparisonOp } from './model.js';
import { readPercentage } from './validate-fault-filter.js';
import { validateHeaderMatcher } from './validate-matchers.js';

const FILTERS = [
  'status_code_filter',
  'duration_filter',
  'not_health_check_filter',
  'traceable_filter',
  'runtime_filter',
  'and_filter',
  'or_filter',
  'header_filter',
  'response_flag_filter',
  'grpc_status_filter',
  'extension_filter',
  'metadata_filter',
  'log_type_filter',
];
const UNSUPPORTED = ['traceable_filter', 'extension_filter', 'metadata_filter', 'log_type_filter'];

const COMPARISON_OP: EnumSpec<ComparisonOp> = {
  known: ['EQ', 'GE', 'LE', 'NE'],
  supported: ['EQ', 'GE', 'LE', 'NE'],
};

/**
 * Response flag codes Envoy's response_flag_filter accepts. Those Weft never sets (it has
 * no such feature) are accepted and simply never match.
 */
export const ACCESS_LOG_FILTER_FLAGS: readonly string[] = [
  'LH',
  'UH',
  'UT',
  'LR',
  'UR',
  'UF',
  'UC',
  'UO',
  'NR',
  'DI',
  'FI',
  'RL',
  'UAEX',
  'RLSE',
  'DC',
  'URX',
  'SI',
  'IH',
  'DPE',
  'UMSDR',
  'RFCF',
  'NFCF',
  'DT',
  'UPE',
  'NC',
  'OM',
  'DF',
  'DO',
  'DR',
];

/** gRPC status names (google.rpc.Code / grpc-status), in code order. */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Reads the AccessLogFilter at `path`. */
export function readAccessLogFilter(raw: unknown, path: string, issues: ConfigIssue[]): AccessLogFilter {
  const r = readMessage(raw, path, issues);
  const which = r.oneOf(FILTERS, FILTERS.join(', '));
  let out: AccessLogFilter = { kind: 'not_health_check' };
  if (which === null) {
    r.issue(null, `needs one of ${FILTERS.filter((f) => !UNSUPPORTED.includes(f)).join(', ')}`);
  } else if (UNSUPPORTED.includes(which)) {
    r.issue(which, 'is not supported by Weft');
  } else {
    const f = r.requiredMessage(which);
    out = readOne(which, f);
    f.done();
  }
  // A second filter kind was reported by oneOf; not again as an unknown field.
  for (const name of FILTERS) r.ignore(name);
  r.done();
  return out;
}

function readOne(which: string, f: FieldReader): AccessLogFilter {
  switch (which) {
    case 'status_code_filter':
    case 'duration_filter': {
      const c = f.requiredMessage('comparison');
      const op = c.enumeration('op', 'EQ', COMPARISON_OP);
      const v = c.requiredMessage('value');
      const value = v.uint32('default_value', 0);
      v.string('runtime_key');
      v.done();
      c.done();
      return { kind: which === 'status_code_filter' ? 'status_code' : 'duration', op, value };
    }
    case 'not_health_check_filter':
      return { kind: 'not_health_check' };
    case 'runtime_filter':
      f.string('runtime_key');
      return {
        kind: 'runtime',
        percent: readPercentage(f, 'percent_sampled'),
        independentRandomness: f.boolean('use_independent_randomness', false),
      };
    case 'and_filter':
    case 'or_filter': {
      const items = f.list('filters');
      if (items.length < 2) f.issue('filters', `needs at least 2 filters, got ${items.length}`);
      return {
        kind: which === 'and_filter' ? 'and' : 'or',
        filters: items.map((item, i) => readAccessLogFilter(item, `${f.at('filters')}[${i}]`, f.issues)),
      };
    }
    case 'header_filter':
      return { kind: 'header', header: validateHeaderMatcher(f.take('header'), f.at('header'), f.issues) };
    case 'response_flag_filter': {
      const flags = f.stringList('flags');
      for (let i = 0; i < flags.length; i++) {
        if (!ACCESS_LOG_FILTER_FLAGS.includes(flags[i]))
          f.issue(
            `flags[${i}]`,
            `unknown response flag ${describe(flags[i])}; expected one of ${ACCESS_LOG_FILTER_FLAGS.join(', ')}`,
          );
      }
      return { kind: 'response_flag', flags };
    }
    default: {
      // grpc_status_filter
      const statuses: number[] = [];
      const list = f.list('statuses');
      for (let i = 0; i < list.length; i++) {
        const v = list[i];
        const code = typeof v === 'number' ? v : GRPC_STATUS_NAMES.indexOf(String(v));
        if (Number.isInteger(code) && code >= 0 && code < GRPC_STATUS_NAMES.length) statuses.push(code);
        else
          f.issue(
            `statuses[${i}]`,
            `unknown gRPC status ${describe(v)}; expected one of ${GRPC_STATUS_NAMES.join(', ')}`,
          );
      }
      return { kind: 'grpc_status', statuses, exclude: f.boolean('exclude', false) };
    }
  }
}
