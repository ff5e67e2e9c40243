#!/usr/bin/env -S node --max-semi-space-size=1
// The `weft` command: a thin launcher for the compiled CLI (built by `npm ci` via `prepare`).
//
// The V8 flag in the first line is Weft's runtime default when `weft` is run as a
// command (`npx weft`, `./bin/weft.js`): a proxy allocates many short-lived objects, and
// V8's default young generation grows to 16 MiB semi-spaces, which costs ~13 MB of RSS
// per proxy with no measured throughput gain (docs/benchmarks.md).
import '../dist/src/cli/main.js';
