import type { JourneyEvent } from '@not/graph';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asOf, byKey, passagesOf, seriesOf, type Passage } from './trends.series.js';

const T0 = Date.parse('2026-10-05T08:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;

/** A journey from (stage, minutes after T0, phase, outcome, site) rows. */
function journey(rows: Array<[string, number, string?, string?, string?]>): JourneyEvent[] {
  return rows.map(([stage, min, phase, outcome, site], i) => ({
    id: `e${i}`,
    stage,
    phase: phase ?? null,
    outcome: outcome ?? null,
    time: new Date(T0 + min * MIN).toISOString(),
    site: site ?? 'a',
  }));
}
const change = (events: JourneyEvent[]) => ({ key: 'repo@1', repository: 'repo', area: 'payments', events });

describe('passages of a change', () => {
  it('splits a delivered change into the six segments at the lead-time points', () => {
    const { passages, trials } = passagesOf(
      change(
        journey([
          ['commit', 0],
          ['merge', 60],
          ['build', 70, 'triggered', undefined, 'b'],
          ['build', 85, 'finished', 'success', 'b'],
          ['test', 125, 'finished', 'success', 'b'],
          ['promotion', 305],
          ['release', 365],
        ]),
      ),
    );
    assert.deepEqual(
      passages.map((p) => [p.segment, (p.entered - T0) / MIN, p.left === null ? null : (p.left - T0) / MIN, p.site]),
      [
        ['coding', 0, 60, 'a'],
        ['waiting-for-build', 60, 70, 'a'],
        ['build', 70, 85, 'b'],
        ['test', 85, 125, 'b'],
        ['waiting-for-promotion', 125, 305, 'b'],
        ['promotion-to-release', 305, 365, 'a'],
      ],
    );
    assert.ok(passages.every((p) => p.stoppedAt === null && p.area === 'payments'));
    assert.deepEqual(
      trials.map((t) => [t.segment, t.failed, t.site]),
      [
        ['build', false, 'b'],
        ['test', false, 'b'],
      ],
    );
  });

  it('stops a change whose builds all failed at build, from its last failure, and counts each failure', () => {
    const { passages, trials } = passagesOf(
      change(
        journey([
          ['commit', 0],
          ['merge', 10],
          ['build', 20, 'triggered'],
          ['build', 30, 'finished', 'failure'],
          ['build', 50, 'finished', 'failure'],
        ]),
      ),
    );
    const last = passages[passages.length - 1]!;
    assert.equal(last.segment, 'build');
    assert.equal(last.left, null);
    assert.equal(last.stoppedAt, T0 + 50 * MIN);
    assert.deepEqual(
      trials.map((t) => t.failed),
      [true, true],
    );
  });

  it('leaves a change that waits for promotion open there (it is in the queue)', () => {
    const { passages } = passagesOf(
      change(
        journey([
          ['commit', 0],
          ['merge', 10],
          ['build', 20, 'triggered'],
          ['build', 30, 'finished', 'success'],
          ['test', 50, 'finished', 'success'],
        ]),
      ),
    );
    const last = passages[passages.length - 1]!;
    assert.deepEqual([last.segment, last.left, last.stoppedAt], ['waiting-for-promotion', null, null]);
  });

  it('merges a skipped point into the segment before it (a direct push has no merge)', () => {
    const { passages } = passagesOf(
      change(
        journey([
          ['commit', 0],
          ['build', 20, 'triggered'],
          ['build', 30, 'finished', 'success'],
        ]),
      ),
    );
    assert.deepEqual(
      passages.map((p) => [p.segment, (p.entered - T0) / MIN, p.left === null ? null : (p.left - T0) / MIN]),
      [
        ['coding', 0, 20],
        ['build', 20, 30],
        ['test', 30, null],
      ],
    );
  });
});

function passage(segment: Passage['segment'], enteredH: number, leftH: number | null, extra: Partial<Passage> = {}): Passage {
  return {
    change: `c${enteredH}-${leftH}`,
    segment,
    area: 'payments',
    site: 'a',
    repository: 'repo',
    entered: T0 + enteredH * HOUR,
    left: leftH === null ? null : T0 + leftH * HOUR,
    stoppedAt: null,
    ...extra,
  };
}

describe('series', () => {
  it('counts arrivals, departures, the queue at each bucket end and the time spent by those that left', () => {
    const ps = [
      passage('test', 0.5, 1.5), // in the queue at the end of bucket 0 only
      passage('test', 0.2, 2.5), // buckets 0 and 1
      passage('test', 1.2, null), // from bucket 1 on
      passage('test', 1.4, null, { stoppedAt: T0 + 2.2 * HOUR }), // bucket 1 only: it stopped on a failure
    ];
    const s = seriesOf(ps, [], T0, T0 + 4 * HOUR, HOUR, 14 * 86_400_000);
    assert.deepEqual(
      s.map((p) => [p.arrivals, p.departures, p.queue]),
      [
        [2, 0, 2],
        [2, 1, 3],
        [0, 1, 1],
        [0, 0, 1],
      ],
    );
    assert.equal(s[1]!.waitP50, 3600);
    assert.equal(s[2]!.waitP50, 8280);
  });

  it('drops a change from the queue once it has been open longer than the open limit', () => {
    const s = seriesOf([passage('test', 0, null)], [], T0, T0 + 5 * HOUR, HOUR, 2.5 * HOUR);
    assert.deepEqual(
      s.map((p) => p.queue),
      [1, 1, 0, 0, 0],
    );
  });

  it('gives the failure rate of the builds or tests that finished in each bucket', () => {
    const trial = (h: number, failed: boolean) => ({
      segment: 'build' as const,
      area: 'x',
      site: 'a',
      repository: 'r',
      at: T0 + h * HOUR,
      failed,
    });
    const s = seriesOf(
      [],
      [trial(0.1, true), trial(0.2, false), trial(0.3, false), trial(0.4, false), trial(1.5, true)],
      T0,
      T0 + 3 * HOUR,
      HOUR,
      HOUR,
    );
    assert.deepEqual(
      s.map((p) => p.failureRate),
      [0.25, 1, null],
    );
  });

  it('splits passages by segment and group, and shows them as they were at an earlier time', () => {
    const ps = [passage('test', 0, 2, { site: 'a' }), passage('test', 0, 1, { site: 'b' }), passage('build', 0, 1, { site: 'b' })];
    const keys = [...byKey(ps, [], ['all', 'site']).values()]
      .map((k) => `${k.key.segment}/${k.key.dimension}/${k.key.group}:${k.passages.length}`)
      .sort();
    assert.deepEqual(keys, ['build/all/all:1', 'build/site/b:1', 'test/all/all:2', 'test/site/a:1', 'test/site/b:1']);
    const then = asOf(ps, T0 + 1.5 * HOUR);
    assert.deepEqual(
      then.map((p) => p.left),
      [null, T0 + HOUR, T0 + HOUR],
    );
    assert.equal(asOf(ps, T0 - 1).length, 0);
  });
});
