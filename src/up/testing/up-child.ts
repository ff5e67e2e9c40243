// `weft up` with the fake launcher in a process of its own, so tests can stop it the way a
// user's other terminal does (`weft down`, SIGTERM): `node up-child.js DIR [--state-dir D]`.

import { runUpCommand } from '../up-command.js';
import { createFakeLauncher } from './fake-launcher.js';

runUpCommand(process.argv.slice(2), { launcher: createFakeLauncher(), graceMs: 3000 }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(70);
  },
);
