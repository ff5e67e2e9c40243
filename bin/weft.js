#!/usr/bin/env node
// The `weft` command: a thin launcher for the compiled CLI (built by `npm ci` via `prepare`).
import '../dist/src/cli/main.js';
