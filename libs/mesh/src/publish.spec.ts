import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitEvents } from './publish.js';

describe('splitEvents', () => {
  it('splits a JSON array into one body per event', () => {
    const bodies = splitEvents('[{"a":1},{"b":2}]', 'f.json');
    assert.deepEqual(
      bodies.map((b) => b.toString()),
      ['{"a":1}', '{"b":2}'],
    );
  });

  it('keeps NDJSON lines byte for byte and skips blank lines', () => {
    const bodies = splitEvents('{"a": 1}\n\n{"b":  2}\n', 'f.ndjson');
    assert.deepEqual(
      bodies.map((b) => b.toString()),
      ['{"a": 1}', '{"b":  2}'],
    );
  });

  it('names the line that is not JSON', () => {
    assert.throws(() => splitEvents('{"a":1}\n{oops}\n', 'f.ndjson'), /f\.ndjson line 2 is not valid JSON/);
    assert.throws(() => splitEvents('  ', 'f.ndjson'), /f\.ndjson is empty/);
  });
});
