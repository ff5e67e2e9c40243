// Errors of the control plane's store, API and CLI client that are not validation errors
// (those are ConfigError, WEFT_CONFIG_INVALID). Each carries a stable code and the HTTP
// status the API answers with.
// The codes are in the catalogue (src/core/errors.ts, docs/errors.md).

import { type ErrorCode, WeftError } from '../../core/errors.js';

export type ControlErrorCode = Exclude<ErrorCode, 'WEFT_CONFIG_INVALID' | 'WEFT_CONFIG_READ'>;

export class ControlError extends WeftError {
  /** HTTP status the API maps this error to. */
  readonly status: number;
  constructor(code: ControlErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
    this.name = 'ControlError';
  }
}
