// Whether this machine has the C compiler `npm ci` builds Weft's addons with: where it
// does, an addon that did not build is a failure, not a skip.

import { spawnSync } from 'node:child_process';

export const HAS_CC = spawnSync(process.env.CC || 'cc', ['--version']).status === 0;
