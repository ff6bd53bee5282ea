import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILED_OUTCOMES, STOPPED_OUTCOMES } from './model.js';

describe('outcome classes', () => {
  it('counts failure and error as failed, and a canceled run as stopped but not failed', () => {
    assert.deepEqual([...FAILED_OUTCOMES].sort(), ['error', 'failure']);
    assert.ok(!FAILED_OUTCOMES.has('canceled'));
    assert.ok(STOPPED_OUTCOMES.has('canceled'));
    for (const o of FAILED_OUTCOMES) assert.ok(STOPPED_OUTCOMES.has(o), `${o} stops a stage too`);
    assert.ok(!STOPPED_OUTCOMES.has('success') && !STOPPED_OUTCOMES.has('inconclusive'));
  });
});
