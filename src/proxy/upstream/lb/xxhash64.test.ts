import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xxHash64 } from './xxhash64.js';

// Reference values from the xxHash project's test suite and the python-xxhash docs.
describe('xxHash64', () => {
  it('matches the reference vectors (short inputs, the 1/4/8-byte tails)', () => {
    assert.equal(xxHash64(''), 0xef46db3751d8e999n);
    assert.equal(xxHash64('a'), 0xd24ec4f1a98c6e5bn);
    assert.equal(xxHash64('abc'), 0x44bc2cf5ad770999n);
  });

  it('matches the reference vector for an input of 32 bytes or more (the stripe loop)', () => {
    assert.equal(xxHash64('Nobody inspects the spammish repetition'), 0xfbcea83c8a378bf1n);
  });

  it('takes a seed and hashes strings as UTF-8', () => {
    assert.notEqual(xxHash64('abc', 1n), xxHash64('abc'));
    assert.equal(xxHash64('é'), xxHash64(Buffer.from([0xc3, 0xa9])));
  });
});
