#!/usr/bin/env -S node --max-semi-space-size=1 --no-allocation-site-pretenuring --no-parallel-scavenge
// The `weft` command: a thin launcher for the compiled CLI (built by `npm ci` via `prepare`).
//
// The V8 flags in the first line are Weft's runtime defaults when `weft` is run as a
// command (`npx weft`, `./bin/weft.js`); src/core/runtime-flags.ts says why, and is the
// same list for the processes Weft starts itself.
import '../dist/src/cli/main.js';
