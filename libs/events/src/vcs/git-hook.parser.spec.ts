import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const samples = Object.fromEntries(localSamples('git-hook').map((s) => [s.file, s.json as Record<string, unknown>]));
const parse = (body: unknown) => single(parseMessage(message('git-hook', body)));

describe('git post-receive hook parser', () => {
  it('parses every sample', () => {
    assert.ok(Object.keys(samples).length >= 3);
    for (const [file, body] of Object.entries(samples)) assert.equal(parseMessage(message('git-hook', body)).ok, true, file);
  });

  it('records each pushed commit with its parent and the work items its message names', () => {
    const ev = parse(samples['push-two-commits.json']);
    const repo = 'git.lund.example.com/platform/app';
    assert.equal(ev.time, '2024-05-01T10:00:05.000Z');
    assert.ok(
      ev.relations.some(
        (r) => r.type === 'PARENT' && r.from.key === `${repo}@${'3'.repeat(40)}` && r.to.key === `${repo}@${'2'.repeat(40)}`,
      ),
    );
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'PROJ-7'));
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === `${repo}#12`));
    assert.ok(ev.about.some((a) => a.role === 'head' && a.entity.key === `${repo}@${'3'.repeat(40)}`));
    const second = ev.entities.find((e) => e.key === `${repo}@${'3'.repeat(40)}`);
    assert.equal(second?.props['authoredAt'], '2024-05-01T07:58:00.000Z');
  });

  it('records both parents of a merge commit on a new branch', () => {
    const ev = parse(samples['branch-created-merge.json']);
    assert.equal(ev.relations.filter((r) => r.type === 'PARENT').length, 2);
    assert.equal(ev.props['created'], true);
  });

  it('names the commit an annotated tag peels to, not the tag object', () => {
    const ev = parse(samples['annotated-tag-created.json']);
    const repo = 'git.example.com/platform/app';
    assert.ok(ev.about.some((a) => a.role === 'head' && a.entity.key === `${repo}@a27c3a31ee91d6adeef3257bdbeabcbac9048921`));
    assert.ok(!ev.entities.some((e) => e.key.endsWith('76d085d2d7fdf6288d804bdbaca59ca33b285b19')));
    assert.equal(ev.props['tag'], 'v1.0.0');
    assert.equal(ev.props['after'], 'a27c3a31ee91d6adeef3257bdbeabcbac9048921');
    assert.equal(ev.props['tagObject'], '76d085d2d7fdf6288d804bdbaca59ca33b285b19');
  });

  it('rejects a peeled commit that is not a full sha', () => {
    const r = parseMessage(message('git-hook', { ...samples['annotated-tag-created.json'], peeled: 'v1.0.0^{}' }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'peeled');
  });

  it('gives the same id to the same ref update whatever the JSON layout', () => {
    const a = parse(samples['branch-deleted.json']);
    const b = single(parseMessage(message('git-hook', JSON.stringify(samples['branch-deleted.json'], null, 4))));
    assert.equal(a.id, b.id);
    assert.equal(a.props['deleted'], true);
  });

  it('rejects a sha that is not a full sha', () => {
    const r = parseMessage(message('git-hook', { ...samples['branch-deleted.json'], after: 'HEAD' }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'after');
  });

  rejectsBadInput('git-hook', {
    valid: samples['push-two-commits.json']!,
    removeRequired: (b) => {
      delete b['commits'][0]['sha'];
      return 'commits[0].sha';
    },
    wrongType: (b) => {
      b['commits'][1]['parents'] = 'abc';
      return 'commits[1].parents';
    },
  });
});
