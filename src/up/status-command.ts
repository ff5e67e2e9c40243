// `weft status [DIR] [--state-dir DIR] [-o table|json]`: what a `weft up` in this project is
// running, read from STATE_DIR/up.json by any terminal. Each pid is checked: a state file
// whose `weft up` is gone is stale (it was killed or crashed), and status says so, with the
// processes it left behind.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WeftError } from '../core/errors.js';
import { MESH_FILE_NAME } from './mesh-file.js';
import { formatTable } from './text-table.js';
import { reportError } from './up-command.js';
import { UpError } from './up-error.js';
import { isSameProcess, readUpState, STATE_FILE, type UpState } from './up-state.js';

const HELP = `Usage: weft status [DIR] [--state-dir DIR] [-o table|json]

Shows the processes of the \`weft up\` running in DIR (default: the current directory):
name, role, pid, state, restarts and ports, and the control plane's addresses.

Options:
      --state-dir DIR   the state directory weft up was given (default DIR/.weft)
  -o, --output FORMAT   table (default) or json
`;

export interface StatusDeps {
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
}

/** The state directory from `[DIR|mesh.yaml] [--state-dir]`, as weft up chose it. */
export function stateDirFrom(positional: string | undefined, stateDir: string | undefined): string {
  if (stateDir !== undefined) return resolve(stateDir);
  const p = resolve(positional ?? '.');
  const dir = /\.(ya?ml|json)$/i.test(p) ? resolve(p, '..') : p;
  return join(dir, '.weft');
}

export async function runStatusCommand(argv: string[], deps: StatusDeps = {}): Promise<number> {
  const out = deps.out ?? process.stdout;
  const err = deps.err ?? process.stderr;
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      out.write(HELP);
      return 0;
    }
    const format = values.output ?? 'table';
    if (format !== 'table' && format !== 'json')
      throw new WeftError('WEFT_USAGE', `--output must be table or json, not '${format}'`);
    const stateDir = stateDirFrom(positionals[0], values['state-dir']);
    const state = await readUpState(stateDir);
    if (state === undefined)
      throw new UpError(
        'WEFT_UP_NOT_RUNNING',
        `no weft up is running here (no ${join(stateDir, STATE_FILE)}); start one with \`weft up\` in the directory of ${MESH_FILE_NAME}`,
      );
    const alive = isSameProcess(state.pid, state.startTime);
    if (format === 'json') {
      out.write(`${JSON.stringify({ ...state, alive }, null, 2)}\n`);
      return alive ? 0 : 1;
    }
    if (!alive) {
      const left = leftovers(state);
      err.write(
        `weft: the state file ${join(stateDir, STATE_FILE)} is stale: weft up (pid ${state.pid}) is no longer running` +
          (left.length === 0
            ? '.\n'
            : `, but it left ${left.length} process(es) running: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}.\nRun \`weft down\` here to stop them.\n`),
      );
    }
    out.write(formatStatus(state, alive));
    return alive ? 0 : 1;
  } catch (e) {
    return reportError(e, err);
  }
}

export function formatStatus(state: UpState, alive: boolean): string {
  const rows = [['NAME', 'ROLE', 'PID', 'STATE', 'RESTARTS', 'PORTS']];
  for (const p of state.processes) {
    const live = p.pid !== undefined && isSameProcess(p.pid, p.startTime);
    const st = !alive && !live ? 'gone' : p.pid !== undefined && !live ? `${p.state} (pid gone)` : p.state;
    rows.push([
      p.name,
      p.role,
      p.pid === undefined ? '-' : String(p.pid),
      st,
      String(p.restarts),
      Object.entries(p.ports)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-',
    ]);
  }
  const head = `weft up pid ${state.pid} (${alive ? state.phase : 'not running'}), mesh ${state.meshFile}, since ${state.startedAt}\n`;
  const ctl = `control plane API ${state.control.apiUrl}, xDS ${state.control.xdsAddress}\n\n`;
  return `${head}${ctl}${formatTable(rows)}\n`;
}

/** Children recorded in a stale state file that are still alive (same pid, same start time). */
export function leftovers(state: UpState): { name: string; pid: number }[] {
  return state.processes
    .filter((p) => p.pid !== undefined && isSameProcess(p.pid, p.startTime))
    .map((p) => ({ name: p.name, pid: p.pid! }));
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        'state-dir': { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new WeftError('WEFT_USAGE', `${(e as Error).message}\n\n${HELP}`);
  }
}
