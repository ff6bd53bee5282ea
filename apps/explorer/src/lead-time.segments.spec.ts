import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { milestonesOf, positionOf, SEGMENTS, segmentsOf, startOf, type Milestones, type Segment } from './lead-time.segments.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const at = (min: number): string => new Date(Date.UTC(2030, 0, 1, 0, min)).toISOString();

interface Ev {
  readonly stage: string;
  readonly phase: string | null;
  readonly outcome: string | null;
  readonly time: string;
}
function ev(stage: string, atHours: number, phase: string | null = null, outcome: string | null = null): Ev {
  return { stage, phase, outcome, time: iso(T0 + atHours * H) };
}

describe('lead-time segments: from points to seconds', () => {
  it('splits a change into its six segments that add up to the total', () => {
    const { total, segments } = segmentsOf({
      commit: at(0),
      merge: at(30),
      buildStart: at(35),
      buildEnd: at(52),
      testEnd: at(100),
      promotion: at(110),
      reached: at(130),
    });
    assert.equal(total, 130 * 60);
    assert.deepEqual(segments, {
      coding: 1800,
      'waiting-for-build': 300,
      build: 1020,
      test: 2880,
      'waiting-for-promotion': 600,
      'promotion-to-release': 1200,
    });
  });

  it('gives a missing point zero length and never lets a segment run backwards', () => {
    const { total, segments } = segmentsOf({ commit: at(0), merge: at(30), buildStart: at(20), reached: at(60) });
    assert.equal(total, 3600);
    assert.equal(segments['waiting-for-build'], 0);
    assert.equal(segments.build, 0);
    assert.equal(segments['promotion-to-release'], 1800);
    assert.equal(
      Object.values(segments).reduce((a, b) => a + b, 0),
      total,
    );
  });
});

describe('lead-time segments: the points a change that reached the end passed', () => {
  const full = [
    ev('commit', 0),
    ev('merge', 1),
    ev('build', 2, 'triggered'),
    ev('build', 3, 'finished', 'success'),
    ev('test', 4, 'started'),
    ev('test', 5, 'finished', 'success'),
    ev('promotion', 6),
    ev('release', 9),
  ];

  it('marks each point with the event that defines it', () => {
    assert.deepEqual(milestonesOf(full, 'release'), {
      commit: iso(T0),
      merge: iso(T0 + H),
      buildStart: iso(T0 + 2 * H),
      buildEnd: iso(T0 + 3 * H),
      testEnd: iso(T0 + 5 * H),
      promotion: iso(T0 + 6 * H),
      reached: iso(T0 + 9 * H),
    });
  });

  it('is undefined until the end stage is reached, and the end is the first event there that counts', () => {
    assert.equal(milestonesOf(full.slice(0, -1), 'release'), undefined);
    const twice = [...full, ev('release', 11)];
    let seen = 0;
    assert.equal(milestonesOf(twice, 'release', () => ++seen === 2)?.reached, iso(T0 + 11 * H));
  });

  it('ends the build at the first build that passed, or at the first one that finished when none did', () => {
    const retried = [ev('commit', 0), ev('build', 1, 'finished', 'failure'), ev('build', 2, 'finished', 'success'), ev('release', 3)];
    assert.equal(milestonesOf(retried, 'release')?.buildEnd, iso(T0 + 2 * H));
    const broken = [ev('commit', 0), ev('build', 1, 'finished', 'failure'), ev('build', 2, 'finished', 'error'), ev('release', 3)];
    assert.equal(milestonesOf(broken, 'release')?.buildEnd, iso(T0 + H));
  });

  it('ends testing at the last test run before the promotion, and the promotion at the end when the end is a promotion', () => {
    const late = [ev('commit', 0), ev('test', 1, 'finished', 'success'), ev('promotion', 2), ev('test', 3, 'finished'), ev('release', 4)];
    assert.equal(milestonesOf(late, 'release')?.testEnd, iso(T0 + H));
    const m = milestonesOf([ev('commit', 0), ev('test', 1, 'canceled'), ev('promotion', 2)], 'promotion');
    assert.deepEqual([m?.testEnd, m?.promotion, m?.reached], [iso(T0 + H), iso(T0 + 2 * H), iso(T0 + 2 * H)]);
  });
});

describe('lead-time segments: where a change that has not reached the end is', () => {
  const until = 'release';
  it('puts a change at the segment after the last point it passed, since it passed it', () => {
    const cases: Array<[Ev[], Segment, number]> = [
      [[ev('commit', 0)], 'coding', 0],
      [[ev('commit', 0), ev('merge', 1)], 'waiting-for-build', 1],
      [[ev('commit', 0), ev('merge', 1), ev('build', 2, 'triggered')], 'build', 2],
      [[ev('commit', 0), ev('merge', 1), ev('build', 2, 'triggered'), ev('build', 3, 'finished', 'success')], 'test', 3],
      [
        [
          ev('commit', 0),
          ev('build', 2, 'triggered'),
          ev('build', 3, 'finished', 'success'),
          ev('test', 4, 'started'),
          ev('test', 5, 'finished', 'success'),
        ],
        'waiting-for-promotion',
        5,
      ],
      [
        [ev('commit', 0), ev('build', 3, 'finished', 'success'), ev('test', 5, 'finished', 'success'), ev('promotion', 6)],
        'promotion-to-release',
        6,
      ],
    ];
    for (const [journey, stage, since] of cases) assert.deepEqual(positionOf(journey, until), { stage, since: iso(T0 + since * H) }, stage);
  });

  it('keeps a change whose builds failed at build, and one whose tests failed at test', () => {
    assert.deepEqual(positionOf([ev('commit', 0), ev('build', 2, 'started'), ev('build', 3, 'finished', 'failure')], until), {
      stage: 'build',
      since: iso(T0 + 2 * H),
    });
    assert.deepEqual(
      positionOf(
        [ev('commit', 0), ev('build', 2, 'started'), ev('build', 3, 'finished', 'success'), ev('test', 4, 'finished', 'failure')],
        until,
      ),
      { stage: 'test', since: iso(T0 + 3 * H) },
    );
    // A build retried successfully moves on.
    assert.equal(
      positionOf([ev('commit', 0), ev('build', 2, 'finished', 'failure'), ev('build', 4, 'finished', 'success')], until)?.stage,
      'test',
    );
  });

  it('does not count a change that reached the end stage', () => {
    assert.equal(positionOf([ev('commit', 0), ev('release', 9)], until), undefined);
    assert.equal(positionOf([ev('commit', 0), ev('publication', 9)], 'publication'), undefined);
    assert.equal(positionOf([], until), undefined);
  });

  it('agrees with the milestones: on the way, a change is in the segment that starts at the last point it passed', () => {
    const full = [
      ev('commit', 0),
      ev('merge', 1),
      ev('build', 2, 'triggered'),
      ev('build', 3, 'finished', 'success'),
      ev('test', 5, 'finished', 'success'),
      ev('promotion', 6),
      ev('release', 9),
    ];
    const m = milestonesOf(full, until)!;
    const starts: Array<keyof Milestones> = ['commit', 'merge', 'buildStart', 'buildEnd', 'testEnd', 'promotion'];
    for (let i = 0; i < SEGMENTS.length; i++)
      assert.deepEqual(positionOf(full.slice(0, i + 1), until), { stage: SEGMENTS[i], since: m[starts[i]!] }, SEGMENTS[i]);
  });

  it('does not let a canceled run pass its point', () => {
    assert.equal(positionOf([ev('commit', 0), ev('build', 1, 'started'), ev('build', 2, 'finished', 'canceled')], until)?.stage, 'build');
    assert.deepEqual(positionOf([ev('commit', 0), ev('build', 2, 'finished', 'success'), ev('test', 3, 'canceled', 'canceled')], until), {
      stage: 'test',
      since: iso(T0 + 2 * H),
    });
  });
});

describe('where lead time starts', () => {
  const times = new Map([
    ['PAY-1', { created: '2030-01-01T08:00:00.000Z', started: '2030-01-02T09:00:00.000Z' }],
    ['PAY-2', { created: '2030-01-01T12:00:00.000Z', started: null }],
    ['PAY-3', { created: '2030-01-05T00:00:00.000Z', started: '2030-01-05T01:00:00.000Z' }],
  ]);
  const commit = '2030-01-03T09:00:00.000Z';

  it('starts at the first commit by default, whatever work items the change names', () => {
    assert.deepEqual(startOf('commit', commit, ['PAY-1'], times), { at: commit, workItem: null, ticket: 0 });
  });

  it("starts at the earliest creation or start among the change's work items, the time to the commit being the ticket's", () => {
    assert.deepEqual(startOf('work-item-created', commit, ['PAY-2', 'PAY-1'], times), {
      at: '2030-01-01T08:00:00.000Z',
      workItem: 'PAY-1',
      ticket: 49 * 3600,
    });
    assert.deepEqual(startOf('work-item-started', commit, ['PAY-2', 'PAY-1'], times), {
      at: '2030-01-02T09:00:00.000Z',
      workItem: 'PAY-1',
      ticket: 24 * 3600,
    });
  });

  it('starts at the commit when no work item was created or started before it, or none is known', () => {
    assert.deepEqual(startOf('work-item-started', commit, ['PAY-2', 'PAY-3'], times), { at: commit, workItem: null, ticket: 0 });
    assert.deepEqual(startOf('work-item-created', commit, ['NOPE-9'], times), { at: commit, workItem: null, ticket: 0 });
    assert.deepEqual(startOf('work-item-created', commit, [], times), { at: commit, workItem: null, ticket: 0 });
  });
});
