import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { untraced } from './untraced.js';

describe('untraced', () => {
  it('captures no frames for what it starts, and puts the limit back', () => {
    const before = Error.stackTraceLimit;
    const stack = untraced(() => new Error('inside').stack);
    assert.equal(stack, 'Error: inside');
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new Error('after').stack ?? '', /\n\s+at /);
  });

  it('puts the limit back when what it starts throws', () => {
    const before = Error.stackTraceLimit;
    assert.throws(
      () =>
        untraced(() => {
          throw new TypeError('bad parameters');
        }),
      /bad parameters/,
    );
    assert.equal(Error.stackTraceLimit, before);
  });
});
