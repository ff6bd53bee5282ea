import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AboutRow, EntityRow, EventRow } from '@not/graph';
import { assembleJourney, parseBuildKey } from './journey.js';

let n = 0;
const ev = (stage: string, min: number, o: Partial<EventRow> = {}): EventRow => ({
  id: `e${n++}`,
  type: 'T',
  stage,
  phase: null,
  outcome: null,
  time: new Date(Date.UTC(2030, 0, 1, 0, min)).toISOString(),
  site: 'site-a',
  source: 'ci',
  format: 'eiffel',
  props: {},
  ...o,
});
const build: EntityRow = { eid: 'b', label: 'Build', key: 'ci.example.com/app#4', props: {} };
const about = (e: EventRow, x: EntityRow): AboutRow => ({ event: e.id, role: 'run', entity: x });

describe('assembling a journey', () => {
  it('stops at the furthest stage when its last outcome there is a failure, naming the build', () => {
    const started = ev('build', 10, { phase: 'started' });
    const failed = ev('build', 20, { phase: 'finished', outcome: 'failure' });
    const j = assembleJourney([ev('commit', 0), started, failed], [about(started, build), about(failed, build)], [], [build], false);
    assert.equal(j.furthestStage, 'build');
    assert.equal(j.stoppedAt?.stage, 'build');
    assert.equal(j.stoppedAt?.build, build.key);
    assert.deepEqual(
      [j.builds[0]!.ci, j.builds[0]!.job, j.builds[0]!.number, j.builds[0]!.runSeconds],
      ['ci.example.com', 'app', '4', 600],
    );
  });

  it('does not stop when a later run at the same stage passed, or when the change went further', () => {
    const retried = assembleJourney([ev('test', 0, { outcome: 'failure' }), ev('test', 5, { outcome: 'success' })], [], [], [], false);
    assert.equal(retried.stoppedAt, null);
    const further = assembleJourney(
      [ev('build', 0, { outcome: 'failure' }), ev('build', 5, { outcome: 'success' }), ev('artifact', 6)],
      [],
      [],
      [],
      false,
    );
    assert.equal(further.furthestStage, 'artifact');
    assert.equal(further.stoppedAt, null);
  });

  it('names the test run that failed after a deployment to staging as where the change stopped', () => {
    const run: EntityRow = { eid: 't', label: 'TestRun', key: 'tests.example.com/run/81', props: {} };
    const failed = ev('test', 40, { phase: 'finished', outcome: 'failure', site: 'site-b' });
    const j = assembleJourney(
      [ev('commit', 0), ev('build', 10, { phase: 'finished', outcome: 'success' }), ev('deployment', 20, { outcome: 'success' }), failed],
      [about(failed, run)],
      [],
      [run],
      false,
    );
    assert.equal(j.furthestStage, 'test');
    assert.deepEqual([j.stoppedAt?.stage, j.stoppedAt?.testRun, j.stoppedAt?.event.event], ['test', run.key, failed.id]);
    assert.equal(j.stages.find((s) => s.stage === 'deployment')?.reached, true);
  });

  it('orders artifacts before tests, and sorts events by time', () => {
    const j = assembleJourney([ev('test', 30), ev('artifact', 20)], [], [], [], false);
    assert.equal(j.furthestStage, 'test');
    assert.deepEqual(
      j.events.map((e) => e.stage),
      ['artifact', 'test'],
    );
  });

  it('reads CI, job and number from build keys', () => {
    assert.deepEqual(parseBuildKey('ci.example.com/team/app#12'), { ci: 'ci.example.com', job: 'team/app', number: '12' });
    assert.deepEqual(parseBuildKey('eiffel/run/abc'), { ci: 'eiffel', job: null, number: 'abc' });
  });
});
