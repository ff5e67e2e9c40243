// Load generators for the bench: runs wrk (max throughput) and hey (fixed rate, latency)
// as child processes and parses their text reports into numbers.
//
// The parsers are pure and unit-tested against captured output of wrk 4.1 and hey 0.1.4.

import type { Command, Supervisor } from './supervisor.js';

/** What one wrk run reports. */
/** wrk connections for the max-throughput runs (`wrk -t1 -c50`). */
export const WRK_CONNECTIONS = 50;
/** hey workers (= connections) and total rate for the fixed-load runs. */
export const HEY_CONNECTIONS = 16;
export const FIXED_RPS = 1000;

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  /** Socket errors (connect + read + write + timeout) plus responses with status >= 400. */
  readonly errors: number;
}

/** What one hey run reports. Latencies in milliseconds. */
export interface HeyResult {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses with a status other than 2xx plus transport errors. */
  readonly errors: number;
  readonly responses: number;
}

/** Parses wrk's summary; throws if the `Requests/sec` line is missing (wrk failed). */
export function parseWrkOutput(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const requests = /^\s*(\d+) requests in /m.exec(text);
  if (!rps || !requests) throw new Error(`unrecognised wrk output:\n${text.slice(0, 500)}`);
  let errors = 0;
  // "Socket errors: connect 0, read 0, write 0, timeout 0"
  const socket = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(text);
  if (socket) errors += Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4]);
  // wrk counts status > 399 here despite the label (wrk.c: `if (status > 399)`).
  const non2xx = /^\s*Non-2xx or 3xx responses: (\d+)/m.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return { requests: Number(requests[1]), requestsPerSec: Number(rps[1]), errors };
}

/** Parses hey's default summary; throws if the latency distribution is missing. */
export function parseHeyOutput(text: string): HeyResult {
  const rps = /^\s*Requests\/sec:\s+([\d.]+)/m.exec(text);
  const p50 = /^\s*50%+ in ([\d.]+) secs/m.exec(text);
  const p99 = /^\s*99%+ in ([\d.]+) secs/m.exec(text);
  if (!rps || !p50 || !p99) throw new Error(`unrecognised hey output:\n${text.slice(0, 500)}`);
  let responses = 0;
  let errors = 0;
  const statusSection = sectionAfter(text, 'Status code distribution:');
  for (const match of statusSection.matchAll(/^\s*\[(\d+)\]\s+(\d+) responses/gm)) {
    const count = Number(match[2]);
    responses += count;
    if (match[1][0] !== '2') errors += count;
  }
  const errorSection = sectionAfter(text, 'Error distribution:');
  for (const match of errorSection.matchAll(/^\s*\[(\d+)\]\s/gm)) errors += Number(match[1]);
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: Number(p50[1]) * 1000,
    p99Ms: Number(p99[1]) * 1000,
    errors,
    responses,
  };
}

/** The lines after `heading` up to the next blank line. */
function sectionAfter(text: string, heading: string): string {
  const start = text.indexOf(heading);
  if (start < 0) return '';
  const body = text.slice(start + heading.length);
  const end = body.search(/\n\s*\n/);
  return end < 0 ? body : body.slice(0, end);
}

/** `wrk -t1 -c<connections> -d<seconds>s <url>`. */
export function wrkCommand(wrk: string, url: string, connections: number, durationS: number): Command {
  return { file: wrk, args: ['-t1', `-c${connections}`, `-d${durationS}s`, url] };
}

/**
 * `hey -z <seconds>s -c <connections> -q <rate per connection> <url>`: hey's `-q` limits each
 * worker, so the total rate is split evenly across the connections.
 */
export function heyCommand(
  hey: string,
  url: string,
  connections: number,
  totalRps: number,
  durationS: number,
): Command {
  const perWorker = totalRps / connections;
  return {
    file: hey,
    args: ['-z', `${durationS}s`, '-c', String(connections), '-q', String(perWorker), url],
  };
}

/** Runs wrk for `durationS` seconds (killed if it overruns by 30 s) and parses its report. */
export async function runWrk(
  supervisor: Supervisor,
  wrk: string,
  url: string,
  connections: number,
  durationS: number,
): Promise<WrkResult> {
  const out = await supervisor.run(wrkCommand(wrk, url, connections, durationS), (durationS + 30) * 1000);
  return parseWrkOutput(out);
}

/** Runs hey at a fixed total rate for `durationS` seconds and parses its report. */
export async function runHey(
  supervisor: Supervisor,
  hey: string,
  url: string,
  connections: number,
  totalRps: number,
  durationS: number,
): Promise<HeyResult> {
  const command = heyCommand(hey, url, connections, totalRps, durationS);
  const out = await supervisor.run(command, (durationS + 30) * 1000);
  return parseHeyOutput(out);
}
