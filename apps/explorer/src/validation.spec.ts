import assert from 'node:assert/strict';
import { BadRequestException } from '@nestjs/common';
import { describe, it } from 'node:test';
import { CommitParams, isoTime, ZodPipe } from './validation.js';
import { matches } from './stream.service.js';
import type { GraphChange } from './api.schemas.js';

describe('input validation', () => {
  it('accepts full and short shas, lower-cased, and rejects anything else with what was wrong', () => {
    const pipe = new ZodPipe(CommitParams);
    assert.deepEqual(pipe.transform({ sha: 'ABCDEF12' }, { type: 'param' }), { sha: 'abcdef12' });
    for (const bad of ['abc', "x' OR 1=1", 'a'.repeat(41), '']) {
      assert.throws(
        () => pipe.transform({ sha: bad }, { type: 'param' }),
        (e: unknown) =>
          e instanceof BadRequestException && /path sha: must be 4 to 40 hexadecimal digits/.test(JSON.stringify(e.getResponse())),
        bad,
      );
    }
  });

  it('reads dates and date-times as UTC instants', () => {
    assert.equal(isoTime.parse('2030-01-02'), '2030-01-02T00:00:00.000Z');
    assert.equal(isoTime.parse('2030-01-02T10:00:00+02:00'), '2030-01-02T08:00:00.000Z');
    assert.equal(isoTime.safeParse('tomorrow').success, false);
  });
});

describe('stream filters', () => {
  const change: GraphChange = {
    kind: 'event',
    event: { id: 'e', type: 'T', stage: 'build', phase: 'finished', outcome: 'success', time: '2030-01-01T00:00:00.000Z', site: 'site-b' },
    commits: ['git.example.com/a@abcdef0123456789abcdef0123456789abcdef01'],
    workItems: ['PAY-1'],
    releases: [],
    reached: [],
  };
  it('matches by sha prefix, work item and site, and not otherwise', () => {
    assert.ok(matches(change, {}));
    assert.ok(matches(change, { commit: 'abcdef01', site: 'site-b', workItem: 'PAY-1' }));
    assert.ok(!matches(change, { commit: 'bbbb' }));
    assert.ok(!matches(change, { site: 'site-a' }));
    assert.ok(!matches(change, { release: 'x@1' }));
  });
});
