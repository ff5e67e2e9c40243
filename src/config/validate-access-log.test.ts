// Tests for access log validation: sinks, the three format spellings, the default format.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import {
  DEFAULT_ACCESS_LOG_FORMAT,
  FILE_ACCESS_LOG_TYPE,
  STDERR_ACCESS_LOG_TYPE,
  validateAccessLog,
} from './validate-access-log.js';

function check(raw: unknown): { log: ReturnType<typeof validateAccessLog>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  return { log: validateAccessLog(raw, 'log', issues), issues };
}

test('no format means Envoy default text format, ending with a newline', () => {
  const { log, issues } = check({ typed_config: { '@type': STDERR_ACCESS_LOG_TYPE } });
  assert.deepEqual(issues, []);
  assert.deepEqual(log, {
    name: 'envoy.access_loggers.stderr',
    sink: { kind: 'stderr' },
    format: { kind: 'text', format: DEFAULT_ACCESS_LOG_FORMAT },
  });
  assert.ok(DEFAULT_ACCESS_LOG_FORMAT.startsWith('[%START_TIME%] "%REQ(:METHOD)% '));
  assert.ok(DEFAULT_ACCESS_LOG_FORMAT.endsWith('"%UPSTREAM_HOST%"\n'));
});

test('file logger: legacy format, legacy json_format, log_format with text_format_source', () => {
  const a = check({
    name: 'f',
    typed_config: { '@type': FILE_ACCESS_LOG_TYPE, path: '/tmp/a.log', format: '%PROTOCOL%\n' },
  });
  assert.deepEqual(a.issues, []);
  assert.deepEqual(a.log, {
    name: 'f',
    sink: { kind: 'file', path: '/tmp/a.log' },
    format: { kind: 'text', format: '%PROTOCOL%\n' },
  });
  const b = check({
    typed_config: { '@type': FILE_ACCESS_LOG_TYPE, path: '/tmp/b', json_format: { code: '%RESPONSE_CODE%' } },
  });
  assert.deepEqual(b.issues, []);
  assert.deepEqual(b.log.format, { kind: 'json', json: { code: '%RESPONSE_CODE%' }, omitEmptyValues: false });
  const c = check({
    typed_config: {
      '@type': FILE_ACCESS_LOG_TYPE,
      path: '/tmp/c',
      log_format: { text_format_source: { inline_string: 'x\n' } },
    },
  });
  assert.deepEqual(c.issues, []);
  assert.deepEqual(c.log.format, { kind: 'text', format: 'x\n' });
});

test('format problems name their fields', () => {
  const { issues } = check({
    typed_config: {
      '@type': FILE_ACCESS_LOG_TYPE,
      path: '/tmp/x',
      log_format: { text_format: 'a', omit_empty_values: true, json_format: { a: [1] }, content_type: 'x' },
    },
  });
  assert.deepEqual(
    issues.map((i) => i.path),
    [
      'log.typed_config.log_format',
      'log.typed_config.log_format.omit_empty_values',
      'log.typed_config.log_format.content_type',
    ],
  );
  const json = check({
    typed_config: { '@type': STDERR_ACCESS_LOG_TYPE, log_format: { json_format: { a: [1] } } },
  });
  assert.deepEqual(
    json.issues.map((i) => i.path),
    ['log.typed_config.log_format.json_format.a'],
  );
});
