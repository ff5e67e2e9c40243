// The one way every `weft` command reads its arguments: a parse error becomes WEFT_USAGE
// with the command's help text, and -h/--help prints the help and ends the command.

import { WeftError } from '../core/errors.js';

/**
 * Runs the command's own parse (node:util parseArgs with its options); returns null when
 * help was asked for and printed (the command then exits 0).
 */
export function parseCommandLine<R extends { values: { help?: boolean } }>(
  parse: () => R,
  help: string,
): R | null {
  let parsed: R;
  try {
    parsed = parse();
  } catch (err) {
    throw new WeftError('WEFT_USAGE', `${(err as Error).message}\n\n${help}`);
  }
  if (parsed.values.help) {
    process.stdout.write(help);
    return null;
  }
  return parsed;
}
