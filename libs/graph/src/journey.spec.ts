import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { journeyFromProps, journeyOf, journeyProps, passagesFromProps, stageProperty, type JourneyEvent } from './journey.js';

const commit = { key: 'git.example.com/shop@abc123', props: { repository: 'git.example.com/shop', sha: 'abc123' } };
const ev = (
  id: string,
  stage: string,
  time: string,
  site = 'site-a',
  phase: string | null = null,
  outcome: string | null = null,
): JourneyEvent => ({
  id,
  stage,
  phase,
  outcome,
  time,
  site,
});

describe('journeyOf', () => {
  const events = [
    ev('t1', 'test', '2030-01-01T10:30:00.000Z', 'site-b', 'finished', 'failure'),
    ev('c1', 'commit', '2030-01-01T09:00:00.000Z'),
    ev('b1', 'build', '2030-01-01T10:00:00.000Z', 'site-a', 'finished', 'success'),
    ev('a1', 'artifact', '2030-01-01T10:05:00.000Z'),
    ev('b0', 'build', '2030-01-01T09:30:00.000Z', 'site-a', 'triggered'),
  ];

  it('orders the events by time, summarises each stage and says where a change stopped on a failure', () => {
    const j = journeyOf(commit, events, [{ label: 'Artifact', key: 'sha256:aa' }], false);
    assert.deepEqual(
      j.events.map((e) => e.id),
      ['c1', 'b0', 'b1', 'a1', 't1'],
    );
    const build = j.stages.find((s) => s.stage === 'build')!;
    assert.deepEqual(build, {
      stage: 'build',
      reached: true,
      first: '2030-01-01T09:30:00.000Z',
      last: '2030-01-01T10:00:00.000Z',
      events: 2,
      sites: ['site-a'],
      outcome: 'success',
    });
    assert.equal(j.furthestStage, 'test');
    assert.equal(j.stoppedStage, 'test');
    assert.deepEqual(j.sites, ['site-a', 'site-b']);
    assert.deepEqual(j.artifacts, ['sha256:aa']);
    assert.equal(j.repository, 'git.example.com/shop');
    assert.equal(j.sha, 'abc123');
  });

  it('does not stop a change whose furthest stage succeeded', () => {
    const j = journeyOf(commit, [...events, ev('r1', 'release', '2030-01-02T00:00:00.000Z', 'site-b')], [], false);
    assert.equal(j.furthestStage, 'release');
    assert.equal(j.stoppedStage, null);
  });

  it('stops a change at tests that failed after a deployment to staging, not at the deployment', () => {
    const j = journeyOf(
      commit,
      [
        ev('c1', 'commit', '2030-01-01T09:00:00.000Z'),
        ev('b1', 'build', '2030-01-01T09:10:00.000Z', 'site-a', 'finished', 'success'),
        ev('d1', 'deployment', '2030-01-01T09:20:00.000Z', 'site-a', 'finished', 'success'),
        ev('t1', 'test', '2030-01-01T09:40:00.000Z', 'site-b', 'finished', 'failure'),
      ],
      [],
      false,
    );
    assert.equal(j.stages.find((s) => s.stage === 'deployment')!.reached, true);
    assert.equal(j.furthestStage, 'test');
    assert.equal(j.stoppedStage, 'test');
  });

  it('does not stop a change whose failed tests were followed by a later stage, or passed when run again', () => {
    const base = [
      ev('c1', 'commit', '2030-01-01T09:00:00.000Z'),
      ev('d1', 'deployment', '2030-01-01T09:20:00.000Z', 'site-a', 'finished', 'success'),
      ev('t1', 'test', '2030-01-01T09:40:00.000Z', 'site-b', 'finished', 'failure'),
    ];
    const deployedAgain = journeyOf(
      commit,
      [...base, ev('d2', 'deployment', '2030-01-01T10:00:00.000Z', 'site-a', 'finished', 'success')],
      [],
      false,
    );
    assert.deepEqual([deployedAgain.furthestStage, deployedAgain.stoppedStage], ['deployment', null]);
    const rerun = journeyOf(commit, [...base, ev('t2', 'test', '2030-01-01T09:50:00.000Z', 'site-b', 'finished', 'success')], [], false);
    assert.deepEqual([rerun.furthestStage, rerun.stoppedStage], ['deployment', null]);
  });

  it('gives the same journey whatever the order and repeats of its facts', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...events, ...events], { minLength: 10, maxLength: 10 }), (shuffled) => {
        assert.deepEqual(journeyOf(commit, shuffled, [], false), journeyOf(commit, events, [], false));
      }),
    );
  });

  it('goes to node properties and back unchanged, with a first time per reached stage for the indexes', () => {
    const j = journeyOf(
      commit,
      events,
      [
        { label: 'Release', key: 'shop@1' },
        { label: 'WorkItem', key: 'PAY-1' },
      ],
      true,
    );
    const props = journeyProps(j);
    assert.equal(props[stageProperty('build', 'First')], '2030-01-01T09:30:00.000Z');
    assert.equal(props[stageProperty('release', 'First')], null);
    assert.equal(stageProperty('work-item', 'First'), 'workItemFirst');
    assert.ok(
      Object.values(props).every((v) => !Array.isArray(v) || v.every((x) => x !== null)),
      'no nulls in lists',
    );
    assert.deepEqual(journeyFromProps(props), j);
  });

  it('reads the same passages from the one string and, for a record written before it, from the lists', () => {
    const j = journeyOf(
      commit,
      [...events, ev('e-odd', 'test', '2030-01-01T11:00:00.000Z', 'site "b"\n', 'finished', 'FAILED')],
      [],
      false,
    );
    const props = journeyProps(j);
    const want = { key: j.key, repository: j.repository, events: j.events, workItems: j.workItems, truncated: false };
    assert.equal(typeof props['passages'], 'string');
    assert.deepEqual(passagesFromProps(props), want);
    const { passages: _, ...older } = props;
    assert.deepEqual(passagesFromProps(older), want);
    // Missing phases and outcomes come back as null either way.
    assert.ok(passagesFromProps(props).events.some((e) => e.phase === null && e.outcome === null));
  });
});
