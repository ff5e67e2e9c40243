// Errors of `weft up`, `weft status` and `weft down` that are not mesh-file validation
// errors (those are ConfigError, WEFT_CONFIG_INVALID). Each carries a stable code.
// The codes are in the catalogue (src/core/errors.ts, docs/errors.md).

import { type ErrorCode, WeftError } from '../core/errors.js';

export type UpErrorCode = Extract<ErrorCode, `WEFT_UP_${string}`>;

export class UpError extends WeftError {
  constructor(code: UpErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'UpError';
  }
}
