// Shared by the control-plane integration tests: a real `weft control` child process on
// port 0 (API and xDS), the `weft` CLI against it, and polling for states reached by
// events a test cannot await directly.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

/** The compiled CLI entry next to this build's tests. */
export const WEFT_MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface Control {
  apiUrl: string;
  xdsPort: number;
  stop(): Promise<number | null>;
}

export async function startControl(stateDir: string): Promise<Control> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WEFT_MAIN,
      'control',
      '--state-dir',
      stateDir,
      '--api-address',
      '127.0.0.1:0',
      '--xds-address',
      '127.0.0.1:0',
      '-l',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  let apiUrl = '';
  let xdsPort = 0;
  for await (const line of lines) {
    apiUrl = /^weft control: API listening on (\S+)$/.exec(line)?.[1] ?? apiUrl;
    xdsPort = Number(/^weft control: xDS listening on 127\.0\.0\.1:(\d+)$/.exec(line)?.[1] ?? xdsPort);
    if (apiUrl !== '' && xdsPort !== 0) break;
  }
  lines.on('line', () => {});
  assert.ok(apiUrl !== '' && xdsPort > 0, 'control printed its API and xDS addresses');
  return {
    apiUrl,
    xdsPort,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `weft ARGS` against the control plane; resolves with its exit code and output. */
export function weft(
  args: string[],
  control: Control,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WEFT_MAIN, ...args], {
      env: { ...process.env, WEFT_CONTROL: control.apiUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `probe` (every 10 ms, up to 5 s) until it returns a value. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await delay(10);
  }
  throw new Error(`never happened: ${what}`);
}
