import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const samples = Object.fromEntries(localSamples('gerrit').map((s) => [s.file, s.json as Record<string, any>]));
/** The headers the events-rabbitmq plugin sets. */
const plugin = {
  'gerrit-name': 'review-gbg',
  'gerrit-host': 'review.example.org',
  'gerrit-front-url': 'https://review.example.org/',
  'gerrit-version': '3.9.4',
};
const parse = (body: unknown, headers: Record<string, unknown> = plugin) => parseMessage(message('gerrit', body, { headers }));

const CHANGE = 'review.example.org/I8473b95934b5732ac55d26311a706c9c2bde9940';
const REPO = 'review.example.org/platform/build';

describe('Gerrit stream events (events-rabbitmq)', () => {
  it('parses every sample', () => {
    assert.ok(Object.keys(samples).length >= 3);
    for (const [file, body] of Object.entries(samples)) {
      const r = parse(body);
      assert.ok(r.ok, `${file}: ${r.ok ? '' : r.rejection.reason}`);
    }
  });

  it('records a new patch set as a change with its revision, parent and work items', () => {
    const ev = single(parse(samples['patchset-created.json']));
    assert.equal(ev.type, 'patchset-created');
    assert.equal(ev.stage, 'review');
    assert.equal(ev.phase, 'modified');
    assert.equal(ev.time, '2024-05-01T09:55:01.000Z');
    const change = ev.entities.find((e) => e.label === 'Change');
    assert.equal(change?.key, CHANGE);
    assert.deepEqual(change?.aliases, [`${REPO}!3401`]);
    const head = `${REPO}@b1d5bcc2f8b3b44bfa2d3cb6b5e1a4c7c0a7e2d9`;
    assert.ok(ev.relations.some((r) => r.type === 'INCLUDES' && r.from.key === CHANGE && r.to.key === head));
    assert.ok(
      ev.relations.some(
        (r) => r.type === 'PARENT' && r.from.key === head && r.to.key === `${REPO}@6a0c4e2f1d3b5a7c9e8f0d2b4a6c8e0f1a3b5c7d`,
      ),
    );
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'OPS-77'));
  });

  it('gives the change and commit the keys the Jenkins Gerrit Trigger parameters give', () => {
    const ev = single(parse(samples['patchset-created.json']));
    assert.ok(ev.entities.some((e) => e.label === 'Change' && e.key === 'review.example.org/I8473b95934b5732ac55d26311a706c9c2bde9940'));
    assert.ok(
      ev.entities.some(
        (e) => e.label === 'Commit' && e.key === 'review.example.org/platform/build@b1d5bcc2f8b3b44bfa2d3cb6b5e1a4c7c0a7e2d9',
      ),
    );
  });

  it('reads a failed Verified vote as a failed review step', () => {
    const ev = single(parse(samples['comment-added-verified-failed.json']));
    assert.equal(ev.outcome, 'failure');
    assert.deepEqual(ev.props['approvals'], ['Verified=-1', 'Code-Review=0']);
  });

  it('records a merge with the merged revision as the merge commit', () => {
    const ev = single(parse(samples['change-merged.json']));
    assert.equal(ev.stage, 'merge');
    assert.equal(ev.outcome, 'success');
    assert.ok(ev.about.some((a) => a.role === 'merge' && a.entity.key === `${REPO}@e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6`));
    assert.ok(ev.relations.some((r) => r.type === 'MERGED_AS' && r.to.key === `${REPO}@e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6`));
    assert.equal(ev.props['submitter'], 'bob');
  });

  it('takes the host from change.url when the plugin sends no headers', () => {
    const ev = single(parse(samples['change-merged.json'], {}));
    assert.ok(ev.entities.some((e) => e.key === CHANGE));
  });

  it('lets x-not-gerrit-host win over the change URL', () => {
    const ev = single(parse(samples['change-merged.json'], { 'x-not-gerrit-host': 'gerrit.mirror.example.org' }));
    assert.ok(ev.entities.some((e) => e.key === 'gerrit.mirror.example.org/I8473b95934b5732ac55d26311a706c9c2bde9940'));
  });

  it('records a tag as a ref update on its commit', () => {
    const ev = single(parse(samples['ref-updated-tag.json']));
    assert.equal(ev.stage, 'commit');
    assert.equal(ev.props['tag'], 'v2.3.0');
    assert.ok(ev.about.some((a) => a.role === 'head' && a.entity.key === `${REPO}@e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6`));
  });

  it('records a deleted branch without a head commit', () => {
    const ev = single(parse(samples['ref-updated-branch-deleted.json']));
    assert.equal(ev.phase, 'deleted');
    assert.equal(ev.props['deleted'], true);
    assert.equal(
      ev.entities.some((e) => e.label === 'Commit'),
      false,
    );
  });

  it("reads a ref update of a change's review metadata as review, not as a commit of the code", () => {
    const ev = single(parse(samples['ref-updated-change-meta.json']));
    assert.equal(ev.stage, 'review');
    assert.equal(ev.props['ref'], 'refs/changes/01/1/meta');
    assert.equal(ev.props['changeNumber'], '1');
    assert.equal(ev.props['reviewMetadata'], true);
    assert.equal(
      ev.entities.some((e) => e.label === 'Commit'),
      false,
    );
    assert.ok(ev.about.some((a) => a.entity.label === 'Repository' && a.entity.key === 'review.example.org/testrepo'));
  });

  it('still reads a patch set ref update as a commit', () => {
    const body = structuredClone(samples['ref-updated-change-meta.json']);
    body.refUpdate.refName = 'refs/changes/01/1/2';
    const ev = single(parse(body));
    assert.equal(ev.stage, 'commit');
    assert.ok(
      ev.about.some((a) => a.role === 'head' && a.entity.key === 'review.example.org/testrepo@ba876fbc1bbe1c3c1670163275bceca061eb98e8'),
    );
  });

  it('rejects a ref update when no header says which Gerrit it is on', () => {
    const r = parse(samples['ref-updated-tag.json'], {});
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'headers');
  });

  it('gives a redelivered event the same id, from its bytes', () => {
    const a = single(parse(samples['change-merged.json']));
    const b = single(parse(samples['change-merged.json']));
    assert.match(a.id, /^gerrit:[0-9a-f]{40}$/);
    assert.equal(a.id, b.id);
  });

  it('keeps a project-created event as a generic event of the repository, marked unmodelled', () => {
    // project-created.json: {"projectName":"TestRepo3","headName":"refs/heads/master",…}
    const ev = single(parse(samples['project-created.json']));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['project-created', 'other', true]);
    assert.equal(ev.time, new Date(1700131789 * 1000).toISOString());
    assert.equal(ev.props['ref'], 'refs/heads/master');
    assert.equal(ev.props['project'], 'TestRepo3');
    assert.ok(ev.about.some((a) => a.entity.label === 'Repository' && a.entity.key === 'review.example.org/testrepo3'));
  });

  it('keeps a change event of a type it does not model with the change, repository and patch set commit it names', () => {
    // derived-wip-state-changed.json: change I8473b959… number 3401 of platform/build, patch set 2 revision b1d5bcc2…
    const ev = single(parse(samples['derived-wip-state-changed.json']));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['wip-state-changed', 'other', true]);
    assert.equal(ev.phase, undefined);
    const change = ev.entities.find((e) => e.label === 'Change');
    assert.equal(change?.key, CHANGE);
    assert.deepEqual(change?.aliases, [`${REPO}!3401`]);
    assert.ok(ev.about.some((a) => a.entity.label === 'Repository' && a.entity.key === REPO));
    assert.ok(ev.about.some((a) => a.role === 'mentioned' && a.entity.key === `${REPO}@b1d5bcc2f8b3b44bfa2d3cb6b5e1a4c7c0a7e2d9`));
    assert.equal(ev.props['patchSet'], '2');
  });

  it('never rejects an unmodelled type for a missing or odd field: it keeps what it can read', () => {
    const body = structuredClone(samples['derived-wip-state-changed.json']);
    delete body.change.id;
    body.patchSet.revision = 42;
    const ev = single(parse(body));
    assert.equal(ev.props['unmodelled'], true);
    assert.equal(
      ev.entities.some((e) => e.label === 'Change' || e.label === 'Commit'),
      false,
    );
    assert.ok(ev.about.some((a) => a.entity.key === REPO));
  });

  rejectsBadInput('gerrit', {
    valid: samples['patchset-created.json']!,
    options: { headers: plugin },
    removeRequired: (b) => {
      delete b['patchSet']['revision'];
      return 'patchSet.revision';
    },
    wrongType: (b) => {
      b['change']['subject'] = { text: 'x' };
      return 'change.subject';
    },
  });
});
