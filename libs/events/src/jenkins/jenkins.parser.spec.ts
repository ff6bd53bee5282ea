import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const samples = Object.fromEntries(localSamples('jenkins').map((s) => [s.file, s.json as Record<string, unknown>]));
const parse = (body: unknown) => single(parseMessage(message('jenkins', body), { receivedAt: new Date('2024-05-01T10:00:00Z') }));

describe('Jenkins mq-notifier parser', () => {
  it('parses every sample', () => {
    assert.ok(Object.keys(samples).length >= 3);
    for (const [file, body] of Object.entries(samples)) assert.equal(parseMessage(message('jenkins', body)).ok, true, file);
  });

  it('keys a finished build by instance, job and number and links it to the commit it built', () => {
    const ev = parse(samples['completed-success.json']);
    assert.equal(ev.id, 'jenkins:ci.lund.example.com/jenkins/platform/app#128:completed');
    assert.equal(ev.outcome, 'success');
    assert.equal(ev.phase, 'finished');
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.equal(build?.key, 'ci.lund.example.com/jenkins/platform/app#128');
    const commit = 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8';
    assert.ok(ev.relations.some((r) => r.type === 'BUILT' && r.from.key === build?.key && r.to.key === commit));
  });

  it('keys a build whose Jenkins URL has a port by host alone', () => {
    const body = {
      ...samples['completed-success.json'],
      url: 'http://jenkins.example.org:8080/job/x/7/',
      build_job_name: 'x',
      build_number: 7,
    };
    const ev = parse(body);
    assert.equal(ev.id, 'jenkins:jenkins.example.org/x#7:completed');
    assert.ok(ev.entities.some((e) => e.label === 'Build' && e.key === 'jenkins.example.org/x#7'));
  });

  it('gives a started and a completed message of one build the same build key and different ids', () => {
    const a = parse(samples['started.json']);
    const b = parse(samples['completed-success.json']);
    assert.notEqual(a.id, b.id);
    assert.equal(a.about.find((x) => x.entity.label === 'Build')?.entity.key, b.about.find((x) => x.entity.label === 'Build')?.entity.key);
  });

  it('reads the pull-request builder parameters into commit, change and work item', () => {
    const ev = parse(samples['completed-failure-ghprb.json']);
    assert.equal(ev.outcome, 'failure');
    assert.ok(ev.entities.some((e) => e.label === 'Change' && e.key === 'github.com/acme/app!42'));
    assert.ok(ev.entities.some((e) => e.label === 'WorkItem' && e.key === 'PROJ-12'));
  });

  it('reads Gerrit trigger parameters and an aborted build', () => {
    const ev = parse(samples['completed-gerrit-aborted.json']);
    assert.equal(ev.outcome, 'canceled');
    assert.ok(
      ev.entities.some(
        (e) => e.label === 'Commit' && e.key === 'review.example.org/platform/build@b1d5bcc2f8b3b44bfa2d3cb6b5e1a4c7c0a7e2d9',
      ),
    );
    assert.ok(ev.entities.some((e) => e.label === 'Change' && e.key === 'review.example.org/I8473b95934b5732ac55d26311a706c9c2bde9940'));
  });

  it('keeps a queue message without a build number, with a stable hashed id', () => {
    const a = parse(samples['queued-no-number.json']);
    const b = parse(samples['queued-no-number.json']);
    assert.equal(a.phase, 'queued');
    assert.match(a.id, /^jenkins:[0-9a-f]{40}$/);
    assert.equal(a.id, b.id);
    assert.equal(
      a.entities.some((e) => e.label === 'Build'),
      false,
    );
  });

  it('marks a build cancelled while queued', () => {
    const ev = parse(samples['dequeued-cancelled.json']);
    assert.equal(ev.phase, 'canceled');
    assert.equal(ev.outcome, 'canceled');
  });

  it('reads the early object form of parameters', () => {
    const ev = parse({
      ...samples['completed-success.json'],
      parameters: { GIT_URL: 'https://github.com/acme/app', GIT_COMMIT: '9fceb02d0ae598e95dc970b74767f19372d61af8' },
    });
    assert.ok(ev.entities.some((e) => e.key === 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8'));
  });

  it('keeps a state it does not model as a generic event of the same build and commit, marked unmodelled', () => {
    // derived-finalized.json: completed-success.json with state FINALIZED (job platform/app, build 128, GIT_COMMIT 9fceb02d…)
    const ev = parse(samples['derived-finalized.json']);
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['jenkins.finalized', 'other', true]);
    assert.equal(ev.phase, undefined);
    assert.equal(ev.outcome, undefined);
    assert.equal(ev.id, 'jenkins:ci.lund.example.com/jenkins/platform/app#128:finalized');
    const build = 'ci.lund.example.com/jenkins/platform/app#128';
    assert.ok(ev.about.some((a) => a.entity.label === 'Build' && a.entity.key === build));
    const commit = 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8';
    assert.ok(ev.relations.some((r) => r.type === 'BUILT' && r.from.key === build && r.to.key === commit));
  });

  it('takes its time from x-not-received-at when the relay sets it', () => {
    const ev = single(parseMessage(message('jenkins', samples['started.json'], { headers: { 'x-not-received-at': '1714557600000' } })));
    assert.equal(ev.time, '2024-05-01T10:00:00.000Z');
  });

  rejectsBadInput('jenkins', {
    valid: samples['completed-success.json']!,
    removeRequired: (b) => {
      delete b['state'];
      return 'state';
    },
    wrongType: (b) => {
      b['parameters'] = 5;
      return 'parameters';
    },
  });
});
