// The `weft` command line: dispatches to one module per command.

import { ConfigError, WeftError } from '../core/errors.js';

const USAGE = `weft — a service mesh

Usage:
  weft up [DIR|mesh.yaml]        run a whole mesh on this machine: control plane, apps, sidecars
  weft status [DIR]              what a running 'weft up' runs
  weft down [DIR]                stop a running 'weft up'
  weft run --service S --port P --xds H:P -- CMD   run a process with a sidecar (VMs, hosts)
  weft proxy -c FILE [options]   run the proxy on an Envoy v3 bootstrap (YAML or JSON)
  weft proxy --xds H:P --node ID run the proxy as an xDS client of a control plane
  weft control [options]         run the control plane (store, REST API, xDS server)
  weft apply -f FILE|DIR         create/update resources, all or nothing
  weft get KIND [NAME]           show resources (-n NS, -A, -o table|yaml|json)
  weft delete KIND NAME | -f F   delete resources, all or nothing
  weft proxy-status              xDS clients and their CDS/LDS/EDS/RDS sync state
  weft proxy-config NODE TYPE    what a proxy was sent (clusters|listeners|routes|endpoints)
  weft check [FILES]             validate files and analyse the mesh (WEFT0xxx findings)
  weft version                   print the version
  weft help                      print this help

Run 'weft COMMAND --help' for a command's options. apply/get/delete/proxy-* find the control
plane from --control URL or $WEFT_CONTROL (default http://127.0.0.1:15000).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command's module is loaded on demand: `weft proxy` does not carry the control
    // plane (or gRPC) in its memory, and every command starts faster.
    case 'up':
      return (await import('../up/cli.js')).runUpCommand(rest);
    case 'status':
      return (await import('../up/cli.js')).runStatusCommand(rest);
    case 'down':
      return (await import('../up/cli.js')).runDownCommand(rest);
    case 'run':
      return (await import('../run/run-command.js')).runRunCommand(rest);
    case 'proxy':
      return (await import('./proxy.js')).runProxyCommand(rest);
    case 'control':
      return (await import('./control.js')).runControlCommand(rest);
    case 'apply':
      return (await import('./apply.js')).runApplyCommand(rest);
    case 'get':
      return (await import('./get.js')).runGetCommand(rest);
    case 'delete':
      return (await import('./delete.js')).runDeleteCommand(rest);
    case 'proxy-status':
      return (await import('./proxy-status.js')).runProxyStatusCommand(rest);
    case 'proxy-config':
      return (await import('./proxy-config.js')).runProxyConfigCommand(rest);
    case 'check':
      return (await import('./check.js')).runCheckCommand(rest);
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
