// Weft's error base class and catalogue of stable error codes.
//
// Every error Weft raises on purpose extends WeftError and carries a stable `code`
// (documented in docs/errors.md; a test checks the catalogue and the doc agree).

export const ERROR_CODES = {
  WEFT_CONFIG_INVALID: 'The configuration has one or more invalid or unsupported fields.',
  WEFT_CONFIG_READ: 'The configuration file could not be read or parsed as YAML/JSON.',
  WEFT_LISTEN_FAILED: 'A listener or the admin server could not bind its address.',
  WEFT_USAGE: 'The command line was not understood.',
  WEFT_NOT_FOUND: 'The named resource (or API path) does not exist.',
  WEFT_CONFLICT:
    'The resource changed since the metadata.resourceVersion the client sent; re-read it and retry.',
  WEFT_REVISION_COMPACTED:
    'A watch asked for a revision older than the store still keeps; list again and watch from the list revision.',
  WEFT_STORE_FAILED: 'The state directory could not be read or written (disk error, corrupt log, or in use).',
  WEFT_API_REQUEST: 'The API request was malformed: wrong method, body too large, or a bad parameter.',
  WEFT_CONTROL_UNREACHABLE: 'The CLI could not reach the control plane API (check --control / WEFT_CONTROL).',
  WEFT_INTERNAL: 'An unexpected error inside the control plane; its log has the details.',
  WEFT_UP_LOCKED: 'Another `weft up` already runs in this project directory.',
  WEFT_UP_PORT_IN_USE: 'A port the mesh file fixes is already taken by another process.',
  WEFT_UP_NOT_READY: 'A process did not become ready before its deadline, or exited while starting.',
  WEFT_UP_NOT_RUNNING: 'No `weft up` runs in this directory (no state file, or a stale one).',
  WEFT_UP_STOP_TIMEOUT: '`weft down` gave up waiting: some processes are still alive.',
  WEFT_UP_LAUNCH_FAILED: 'The control plane could not be started or reached, or applying resources failed.',
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
