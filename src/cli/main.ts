// The `weft` command line: dispatches to one module per command.

import { ConfigError, WeftError } from '../core/errors.js';
import { runProxyCommand } from './proxy.js';

const USAGE = `weft — a service mesh (proxy core)

Usage:
  weft proxy -c FILE [options]   run the proxy on an Envoy v3 bootstrap (YAML or JSON)
  weft version                   print the version
  weft help                      print this help

Run 'weft proxy --help' for the proxy's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'proxy':
      return runProxyCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`weft ${await readVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`weft: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof WeftError) {
      process.stderr.write(`weft: error [${err.code}]: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`weft: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
