// Builds Weft's optional native addon (native/tcp-relay.c, docs/native-core.md) into
// dist/native/tcp-relay.node, with the C compiler and the headers of the Node that runs
// this script. Run by `npm run build` and `npm ci` (prepare). Without a compiler or
// headers it says so and succeeds: Weft then relays tcp_proxy bytes in JavaScript.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native/tcp-relay.c');
const out = join(root, 'dist/native/tcp-relay.node');
// Where a Node install keeps its headers: PREFIX/include/node next to PREFIX/bin/node.
const headers = join(dirname(dirname(process.execPath)), 'include/node');
const compiler = process.env.CC || 'cc';

function skip(reason) {
  process.stderr.write(`weft: native tcp relay not built (${reason}); tcp_proxy relays in JavaScript\n`);
}

if (!existsSync(join(headers, 'node_api.h'))) {
  skip(`no Node headers in ${headers}`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-Wall',
    '-DNODE_GYP_MODULE_NAME=tcp_relay',
    `-I${headers}`,
    source,
    '-o',
    out,
  ];
  const res = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (res.error) skip(`${compiler}: ${res.error.message}`);
  else if (res.status !== 0) skip(`${compiler} failed:\n${res.stderr}`);
  else if (res.stderr) process.stderr.write(res.stderr);
}
