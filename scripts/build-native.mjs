// Builds Weft's optional native addons (docs/native-core.md) into dist/native/, with the C
// compiler and the headers of the Node that runs this script: native/tcp-relay.c (the
// tcp_proxy byte path), native/socket-io.c (HTTP/1.1 socket I/O) and native/resident-pages.c
// (giving back the node binary's start-up pages). Run by `npm run
// build` and `npm ci` (prepare). Without a compiler or headers it says so and succeeds:
// Weft then moves those bytes in JavaScript.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Each addon: its source, and what Weft does without it.
const ADDONS = [
  { name: 'tcp-relay', without: 'tcp_proxy relays in JavaScript' },
  { name: 'socket-io', without: 'HTTP/1.1 sockets are read and written in JavaScript' },
  { name: 'resident-pages', without: 'start-up pages of the node binary stay resident' },
];
// Where a Node install keeps its headers: PREFIX/include/node next to PREFIX/bin/node.
const headers = join(dirname(dirname(process.execPath)), 'include/node');
const compiler = process.env.CC || 'cc';

for (const { name, without } of ADDONS) {
  const skip = (reason) => process.stderr.write(`weft: native ${name} not built (${reason}); ${without}\n`);
  const out = join(root, `dist/native/${name}.node`);
  if (!existsSync(join(headers, 'node_api.h'))) {
    skip(`no Node headers in ${headers}`);
    continue;
  }
  mkdirSync(dirname(out), { recursive: true });
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-Wall',
    `-DNODE_GYP_MODULE_NAME=${name.replace('-', '_')}`,
    `-I${headers}`,
    join(root, `native/${name}.c`),
    '-o',
    out,
  ];
  const res = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (res.error) skip(`${compiler}: ${res.error.message}`);
  else if (res.status !== 0) skip(`${compiler} failed:\n${res.stderr}`);
  else if (res.stderr) process.stderr.write(res.stderr);
}
