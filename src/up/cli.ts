// The commands of the up area, for src/cli/main.ts to dispatch to:
//   weft up [DIR|mesh.yaml]   weft status [DIR]   weft down [DIR]

export { runDownCommand } from './down-command.js';
export { runStatusCommand } from './status-command.js';
export { runUpCommand } from './up-command.js';
