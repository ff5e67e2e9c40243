// Unit tests for the /proc parsers and the process-tree walk, plus one live read of this process.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuTicks, descendantsOf, parseProcStat, parseVmRssKb, processTree, rssKb } from './proc.js';

describe('parseProcStat', () => {
  it('reads pid, ppid, utime and stime', () => {
    const line = '4807 (nginx) S 4805 4759 4759 0 -1 4194624 120 0 0 0 37 12 0 0 20 0 1 0 900 1000 300';
    assert.deepEqual(parseProcStat(line), { pid: 4807, ppid: 4805, utimeTicks: 37, stimeTicks: 12 });
  });

  it('counts fields from the last parenthesis, so odd command names do not shift them', () => {
    const line = '77 (we ird) (1) S 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 2 3';
    assert.deepEqual(parseProcStat(line), { pid: 77, ppid: 1, utimeTicks: 5, stimeTicks: 6 });
  });

  it('rejects truncated or garbled lines', () => {
    assert.equal(parseProcStat('12 (x) S 1 2'), null);
    assert.equal(parseProcStat('no parens here'), null);
  });
});

describe('parseVmRssKb', () => {
  it('reads VmRSS in kB', () => {
    assert.equal(
      parseVmRssKb('Name:\tnginx\nVmPeak:\t  9000 kB\nVmRSS:\t    6512 kB\nRssAnon:\t 1000 kB\n'),
      6512,
    );
  });

  it('is null for processes without memory (kernel threads)', () => {
    assert.equal(parseVmRssKb('Name:\tkthreadd\nState:\tS (sleeping)\n'), null);
  });
});

describe('descendantsOf', () => {
  it('finds children and grandchildren but not siblings', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 10],
      [13, 12],
      [20, 1],
    ]);
    assert.deepEqual(descendantsOf(10, parents).sort(), [10, 11, 12, 13]);
  });
});

describe('live /proc reads', () => {
  it('sees this process with CPU time and memory', () => {
    const tree = processTree(process.pid);
    assert.equal(tree[0], process.pid);
    assert.ok(rssKb([process.pid]) > 1024);
    assert.ok(cpuTicks([process.pid]) > 0, 'starting node alone costs more than one clock tick');
    assert.equal(rssKb([0x7ffffff0]), 0, 'a missing pid counts as 0');
  });
});
