// The send gate: bytes in flight bounded, FIFO order, dropped owners release their bytes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSendGate } from './send-gate.js';

describe('send gate', () => {
  it('starts sends while they fit, queues the rest in order, and drains as writes complete', () => {
    const gate = createSendGate(100);
    const started: string[] = [];
    const done = new Map<string, () => void>();
    const send = (owner: object, name: string, size: number): void =>
      gate.send(owner, size, (d) => {
        started.push(name);
        done.set(name, d);
      });
    const a = {};
    const b = {};
    send(a, 'a1', 60);
    send(b, 'b1', 30);
    send(a, 'a2', 50); // 140 > 100: waits
    send(b, 'b2', 1); // behind a2 (first in, first out), although it would fit
    assert.deepEqual(started, ['a1', 'b1']);
    assert.deepEqual([gate.inFlight, gate.queued], [90, 2]);
    done.get('b1')!();
    done.get('b1')!(); // twice is harmless
    assert.deepEqual(started, ['a1', 'b1'], '60 + 50 still does not fit');
    done.get('a1')!();
    assert.deepEqual(started, ['a1', 'b1', 'a2', 'b2']);
    assert.deepEqual([gate.inFlight, gate.queued], [51, 0]);
  });

  it('a send larger than the budget goes alone; a dropped owner frees its bytes and its queue', () => {
    const gate = createSendGate(100);
    const started: string[] = [];
    const a = {};
    const b = {};
    gate.send(a, 500, () => started.push('big'));
    gate.send(a, 10, () => started.push('a-queued'));
    gate.send(b, 10, () => started.push('b'));
    assert.deepEqual(started, ['big']);
    gate.drop(a);
    assert.deepEqual(started, ['big', 'b']);
    assert.deepEqual([gate.inFlight, gate.queued], [10, 0]);
  });
});
