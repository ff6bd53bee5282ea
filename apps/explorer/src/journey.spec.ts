import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AboutRow, EntityRow, EventRow } from '@not/graph';
import { assembleJourney, journeyJoins, parseBuildKey } from './journey.js';

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

describe('joining the events of a journey through what they are about', () => {
  // GitHub push -> Jenkins build (started, finished) -> Artifactory upload -> CDEvents deployment -> tests.
  const commit: EntityRow = { eid: 'c', label: 'Commit', key: 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8', props: {} };
  const build: EntityRow = { eid: 'b', label: 'Build', key: 'ci.example.com/acme/app#7', props: {} };
  const artifact: EntityRow = { eid: 'a', label: 'Artifact', key: 'sha256:5b2c9e4d', props: {} };
  const env: EntityRow = { eid: 'n', label: 'Environment', key: 'staging', props: {} };
  const push = ev('commit', 0, { format: 'github' });
  const started = ev('build', 2, { format: 'jenkins' });
  const finished = ev('build', 9, { format: 'jenkins' });
  const upload = ev('artifact', 10, { format: 'artifactory' });
  const deployed = ev('deployment', 20, { format: 'cdevents' });
  const tested = ev('test', 30, { format: 'cdevents' });
  const events = [tested, deployed, upload, finished, started, push];
  const abouts = [
    about(push, commit),
    about(started, build),
    about(finished, build),
    about(finished, commit),
    about(upload, artifact),
    about(deployed, artifact),
    about(deployed, env),
    about(tested, env),
  ];
  const relations = [
    { from: 'b', type: 'BUILT', to: 'c' },
    { from: 'b', type: 'PRODUCED', to: 'a' },
  ];
  const pairs = (joins: ReturnType<typeof journeyJoins>): string[][] => joins.map((j) => [j.from, j.to, j.via.map((v) => v.key).join(' ')]);

  it('joins each event to the one before it about the same entity, and across relations, in stage order', () => {
    const links = [{ from: tested.id, type: 'PATH', to: deployed.id }];
    const joins = journeyJoins(events, abouts, links, [commit, build, artifact, env], relations);
    assert.deepEqual(pairs(joins), [
      // The finished build names the commit: it joins the push (and through it the build's other events).
      [push.id, finished.id, commit.key],
      [started.id, finished.id, build.key],
      [finished.id, upload.id, build.key],
      [upload.id, deployed.id, artifact.key],
    ]);
  });

  it('names every entity a pair of events shares, and leaves environments and linked pairs out', () => {
    const both = [...abouts, about(started, commit)];
    const joins = journeyJoins(events, both, [], [commit, build, artifact, env], relations);
    assert.deepEqual(pairs(joins).slice(0, 2), [
      [push.id, started.id, commit.key],
      [started.id, finished.id, `${build.key} ${commit.key}`],
    ]);
    assert.ok(!joins.some((j) => j.to === tested.id), 'an environment alone does not join');
    const linked = journeyJoins(events, both, [{ from: started.id, type: 'CAUSE', to: push.id }], [commit, build], relations);
    assert.ok(!linked.some((j) => j.from === push.id && j.to === started.id), 'the link stands for the join');
  });

  it('joins a build to the commit it built when its events do not name the commit', () => {
    const joins = journeyJoins(
      events,
      abouts.filter((a) => !(a.event === finished.id && a.entity === commit)),
      [],
      [commit, build],
      relations,
    );
    assert.deepEqual(pairs(joins)[0], [push.id, started.id, commit.key]);
  });

  it("joins a work item's events to the commits that reference it", () => {
    const ticket: EntityRow = { eid: 'w', label: 'WorkItem', key: 'PAY-42', props: {} };
    const opened = ev('work-item', -30, { format: 'jira' });
    const joins = journeyJoins(
      [opened, ...events],
      [about(opened, ticket), ...abouts],
      [],
      [ticket, commit, build],
      [{ from: 'c', type: 'REFERENCES', to: 'w' }],
    );
    assert.deepEqual(pairs(joins)[0], [opened.id, push.id, 'PAY-42']);
  });

  it('puts the joins into the assembled journey', () => {
    const j = assembleJourney(events, abouts, [], [commit, build, artifact, env], false, relations);
    assert.equal(j.joins.length, 4);
  });
});
