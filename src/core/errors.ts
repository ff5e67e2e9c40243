// Weft's error base class and catalogue of stable error codes.
//
// Every error Weft raises on purpose extends WeftError and carries a stable `code`
// (documented in docs/errors.md; a test checks the catalogue and the doc agree).

export const ERROR_CODES = {
  WEFT_CONFIG_INVALID: 'The configuration has one or more invalid or unsupported fields.',
  WEFT_CONFIG_READ: 'The configuration file could not be read or parsed as YAML/JSON.',
  WEFT_LISTEN_FAILED: 'A listener or the admin server could not bind its address.',
  WEFT_USAGE: 'The command line was not understood.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WeftError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'WeftError';
  }
}

/** One problem found while validating config: where (a dotted field path) and what. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Raised when validation found problems; carries all of them, not just the first. */
export class ConfigError extends WeftError {
  readonly issues: readonly ConfigIssue[];
  constructor(source: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
    super('WEFT_CONFIG_INVALID', `${source}: ${issues.length} configuration error(s):\n${lines}`);
    this.issues = issues;
    this.name = 'ConfigError';
  }
}
