// Tests for access-log sinks and the access logger: batching, ordering, flush on close,
// file append/creation, rotation, and write errors that are counted instead of thrown.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { AccessLog } from '../../config/model.js';
import type { ConfigIssue } from '../../core/errors.js';
import { createStreamInfo, type StreamInfo } from '../stream-info.js';
import { createAccessLogger } from './logger.js';
import { createAccessLogSink, validateAccessLogSink } from './sinks.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-access-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A Writable that records each write call (or fails every write). */
function recorder(fail = false): { stream: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      if (fail) {
        cb(new Error('disk full'));
        return;
      }
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, chunks };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('createAccessLogSink', () => {
  it('batches the lines of one event-loop turn into one write', async () => {
    const { stream, chunks } = recorder();
    const sink = createAccessLogSink({ kind: 'stdout' }, { stdout: stream });
    sink.write('a\n');
    sink.write('b\n');
    sink.write('c\n');
    assert.deepEqual(chunks, [], 'nothing is written synchronously');
    await nextTurn();
    assert.deepEqual(chunks, ['a\nb\nc\n']);
    assert.equal(sink.stats.flushes, 1);
    await sink.close();
  });

  it('under a steady stream of lines, writes at most once per 20 ms', async () => {
    const { stream, chunks } = recorder();
    const sink = createAccessLogSink({ kind: 'stdout' }, { stdout: stream });
    sink.write('a\n');
    await nextTurn();
    assert.deepEqual(chunks, ['a\n'], 'a line after a quiet period goes out on the next turn');
    sink.write('b\n');
    await nextTurn();
    sink.write('c\n');
    await nextTurn();
    assert.deepEqual(chunks, ['a\n'], 'lines right after a write wait for the interval');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(chunks, ['a\n', 'b\nc\n']);
    await sink.close();
  });

  it('flushes at once when the next line would not fit in the 64 KiB pending', async () => {
    const { stream, chunks } = recorder();
    const sink = createAccessLogSink({ kind: 'stderr' }, { stderr: stream });
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) sink.write(line);
    assert.equal(sink.stats.flushes, 0, '64 KiB fit exactly');
    sink.write('tail\n');
    assert.equal(sink.stats.flushes, 1, 'the next line triggers a flush without waiting a turn');
    await sink.close();
    const all = chunks.join('');
    assert.equal(all.length, 64 * 1024 + 5);
    assert.ok(all.endsWith('tail\n'));
  });

  it('keeps lines whole and in order across buffer boundaries, multi-byte text and lines over 64 KiB', async () => {
    const { stream, chunks } = recorder();
    const sink = createAccessLogSink({ kind: 'stderr' }, { stderr: stream });
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`${i} ${'é€😀'.repeat(i % 97)} ${'y'.repeat((i * 37) % 700)}\n`);
    lines.splice(150, 0, `${'z'.repeat(70 * 1024)}\n`);
    for (const line of lines) sink.write(line);
    sink.write('last\n');
    await sink.close();
    assert.ok(chunks.length > 2, 'several buffers were handed over');
    assert.equal(chunks.join(''), `${lines.join('')}last\n`);
  });

  it('counts write errors and keeps going', async () => {
    const { stream } = recorder(true);
    const sink = createAccessLogSink({ kind: 'stdout' }, { stdout: stream });
    sink.write('a\n');
    await nextTurn();
    await nextTurn();
    assert.equal(sink.stats.writeErrors, 1);
    // The stream is now destroyed: later lines are dropped and counted, not thrown.
    sink.write('b\n');
    await sink.close();
    assert.equal(sink.stats.droppedLines, 1);
    sink.write('after close\n');
    assert.equal(sink.stats.droppedLines, 2);
  });

  it('appends to a file (created if missing), in order, and close flushes', async () => {
    const file = join(dir, 'access.log');
    writeFileSync(file, 'existing\n');
    const sink = createAccessLogSink({ kind: 'file', path: file });
    const expected = ['existing\n'];
    for (let i = 0; i < 2000; i++) {
      sink.write(`line ${i}\n`);
      expected.push(`line ${i}\n`);
    }
    await sink.close();
    assert.equal(readFileSync(file, 'utf8'), expected.join(''));

    const fresh = join(dir, 'fresh.log');
    const s2 = createAccessLogSink({ kind: 'file', path: fresh });
    s2.write('one\n');
    await s2.close();
    assert.equal(readFileSync(fresh, 'utf8'), 'one\n');
  });

  it('reopen() moves to a new file after rotation', async () => {
    const file = join(dir, 'rotate.log');
    const sink = createAccessLogSink({ kind: 'file', path: file });
    sink.write('before\n');
    await nextTurn();
    renameSync(file, `${file}.1`);
    sink.reopen();
    sink.write('after\n');
    await sink.close();
    assert.equal(readFileSync(`${file}.1`, 'utf8'), 'before\n');
    assert.equal(readFileSync(file, 'utf8'), 'after\n');
  });

  it('throws when the file cannot be opened', () => {
    assert.throws(
      () => createAccessLogSink({ kind: 'file', path: join(dir, 'no-such-dir', 'x.log') }),
      /ENOENT/,
    );
  });
});

describe('validateAccessLogSink', () => {
  it('accepts a writable directory without creating the file', () => {
    const issues: ConfigIssue[] = [];
    const file = join(dir, 'not-created.log');
    validateAccessLogSink({ kind: 'file', path: file }, 'a[0]', issues);
    assert.deepEqual(issues, []);
    assert.throws(() => statSync(file));
  });

  it('reports an unopenable path', () => {
    const issues: ConfigIssue[] = [];
    validateAccessLogSink({ kind: 'file', path: join(dir, 'missing', 'x.log') }, 'a[0]', issues);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, 'a[0].typed_config.path');
  });
});

describe('createAccessLogger', () => {
  function codeLogger(stream: Writable, filter?: AccessLog['filter']) {
    const issues: ConfigIssue[] = [];
    const logger = createAccessLogger(
      {
        name: 'l',
        sink: { kind: 'stdout' },
        format: { kind: 'text', format: '%HOSTNAME% %RESPONSE_CODE%\n' },
        ...(filter === undefined ? {} : { filter }),
      },
      { hostname: 'node-a', stdout: stream },
      'p',
      issues,
    );
    assert.deepEqual(issues, []);
    return logger;
  }
  function finished(code: number): StreamInfo {
    const info = createStreamInfo();
    info.responseCode = code;
    return info;
  }

  it('formats each StreamInfo and writes it to the sink', async () => {
    const { stream, chunks } = recorder();
    const logger = codeLogger(stream);
    logger.log(finished(201));
    logger.log(finished(503));
    await logger.close();
    assert.equal(chunks.join(''), 'node-a 201\nnode-a 503\n');
  });

  it('filters and formats the entries of one turn together on the next, in order', async () => {
    const { stream, chunks } = recorder();
    const logger = codeLogger(stream, { kind: 'status_code', op: 'GE', value: 500 });
    const infos = [finished(200), finished(503), finished(504)];
    for (const info of infos) logger.log(info);
    // Nothing is formatted yet: a line reflects the StreamInfo as it is on the next turn.
    infos[2].responseCode = 502;
    await nextTurn();
    await nextTurn();
    assert.equal(chunks.join(''), 'node-a 503\nnode-a 502\n');
    // An entry queued right before close() is still written.
    logger.log(finished(500));
    await logger.close();
    assert.equal(chunks.join(''), 'node-a 503\nnode-a 502\nnode-a 500\n');
  });

  it('writes every line intact through a file: across flushes, reused buffers, long and non-ASCII lines', async () => {
    const file = join(dir, 'formatted.log');
    const issues: ConfigIssue[] = [];
    const logger = createAccessLogger(
      {
        name: 'l',
        sink: { kind: 'file', path: file },
        format: { kind: 'text', format: '%REQ(X-LINE)% %BYTES_SENT%\n' },
      },
      { hostname: 'h' },
      'p',
      issues,
    );
    assert.deepEqual(issues, []);
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const info = createStreamInfo();
      // Lines of many lengths (so some end right at the buffer's end), some non-ASCII,
      // and two longer than the whole 64 KiB buffer.
      const value =
        i % 1000 === 999 ? 'L'.repeat(70 * 1024) : `${i % 7 === 0 ? '\u00e9' : 'a'}${'x'.repeat(i % 97)}`;
      info.requestHeaders = ['x-line', value];
      info.bytesSent = i;
      logger.log(info);
      expected.push(`${value} ${i}\n`);
      if (i % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await logger.close();
    assert.equal(readFileSync(file, 'utf8'), expected.join(''));
    assert.ok(logger.sink.stats.flushes > 3, 'the lines went out in several batches');
  });

  it('reports an unopenable file and discards, counting the loss', async () => {
    const issues: ConfigIssue[] = [];
    const logger = createAccessLogger(
      {
        name: 'l',
        sink: { kind: 'file', path: join(dir, 'missing', 'x.log') },
        format: { kind: 'json', json: { code: '%RESPONSE_CODE%' }, omitEmptyValues: false },
      },
      { hostname: 'h' },
      'listeners[0].access_log[0]',
      issues,
    );
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, 'listeners[0].access_log[0].typed_config.path');
    logger.log(createStreamInfo());
    await nextTurn();
    assert.equal(logger.sink.stats.writeErrors, 1);
    assert.equal(logger.sink.stats.droppedLines, 1);
    await logger.close();
  });
});
