// The shared frame of a bench command: a supervisor for every child, a temp workspace, no
// child left behind on exit or Ctrl-C, and the report printed (and, with --write, put into
// docs/benchmarks.md between the bench's own markers). Used by `npm run bench` and
// `npm run bench:control`.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSupervisor, type Supervisor } from './supervisor.js';

export interface BenchFrame {
  /** Temp-directory prefix, e.g. 'weft-bench-'. */
  readonly prefix: string;
  readonly write: boolean;
  readonly log: (message: string) => void;
  /** Puts the report into the document's text (between the bench's markers). */
  readonly replace: (doc: string, report: string) => string;
  /** Runs the bench; returns the markdown report. */
  readonly run: (supervisor: Supervisor, root: string) => Promise<string>;
}

/** Returns the process exit code: 0 when the report was produced (and written), else 1. */
export async function runBench(frame: BenchFrame): Promise<number> {
  const { log } = frame;
  const docPath = join(process.cwd(), 'docs/benchmarks.md');
  if (frame.write && !existsSync(docPath)) {
    log(`--write: ${docPath} not found; run from the repository root`);
    return 1;
  }
  const supervisor = createSupervisor();
  const root = mkdtempSync(join(tmpdir(), frame.prefix));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  // Last resort: nothing async runs in 'exit', so SIGKILL whatever is left synchronously.
  process.once('exit', () => supervisor.killAllNow());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping all children`);
      supervisor.stopAll().finally(() => {
        cleanup();
        process.exit(130);
      });
    });
  }
  try {
    const report = await frame.run(supervisor, root);
    process.stdout.write(report);
    if (frame.write) {
      writeFileSync(docPath, frame.replace(readFileSync(docPath, 'utf8'), report));
      log(`wrote results to ${docPath}`);
    }
    return 0;
  } catch (err) {
    log(`failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await supervisor.stopAll();
    cleanup();
  }
}
