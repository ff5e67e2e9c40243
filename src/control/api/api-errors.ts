// The one place errors become HTTP responses: every error body is
// `{"error": {"code", "message", "issues": [{"path", "message"}]}}` (docs/api.md).

import type { ServerResponse } from 'node:http';
import { ConfigError, WeftError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ResourceIssue } from '../resource.js';
import { ControlError } from '../store/control-error.js';

export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly issues: readonly ResourceIssue[];
  };
}

export function errorResponse(err: unknown, logger: Logger): { status: number; body: ApiErrorBody } {
  if (err instanceof ConfigError)
    return {
      status: 400,
      body: {
        error: { code: err.code, message: `${err.issues.length} invalid field(s)`, issues: err.issues },
      },
    };
  if (err instanceof ControlError)
    return { status: err.status, body: { error: { code: err.code, message: err.message, issues: [] } } };
  if (err instanceof WeftError)
    return { status: 400, body: { error: { code: err.code, message: err.message, issues: [] } } };
  logger.error(`api: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  return {
    status: 500,
    body: {
      error: { code: 'WEFT_INTERNAL', message: 'internal error (see the control plane log)', issues: [] },
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown, logger: Logger): void {
  const { status, body } = errorResponse(err, logger);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body);
}

/** Removes the `items[0].` prefix store.apply puts on paths, for single-resource endpoints. */
export function unprefixIssues(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  const issues = err.issues.map((i) => ({
    path: i.path.replace(/^items\[0\]\.?/, '') || '(root)',
    message: i.message,
  }));
  return new ConfigError('resource', issues);
}
