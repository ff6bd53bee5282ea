import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const load = (f: string) => Object.fromEntries(localSamples(f).map((s) => [s.file, s.json as Record<string, unknown>]));
const github = load('github');
const gitlab = load('gitlab');
const gitea = load('gitea');
/** The event name a sample file was sent as: `push…`, `pull-request…`, else `<event>.<variant>.json`. */
const eventOf = (file: string): string =>
  file.startsWith('push') ? 'push' : file.startsWith('pull-request') ? 'pull_request' : file.split('.')[0]!.replace(/-/g, '_');

describe('GitHub webhooks', () => {
  const gh = (body: unknown, event: string, delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958') =>
    single(parseMessage(message('github', body, { headers: { 'x-not-event': event, 'x-not-delivery-id': delivery } })));

  it('parses every sample', () => {
    assert.ok(Object.keys(github).length >= 3);
    for (const [file, body] of Object.entries(github)) {
      assert.equal(parseMessage(message('github', body, { headers: { 'X-GitHub-Event': eventOf(file) } })).ok, true, file);
    }
  });

  it('uses the delivery id as the event id', () => {
    assert.equal(gh(github['push.json'], 'push').id, 'github:72d3162e-cc78-11e3-81ab-4c9367dc0958');
  });

  it('records the pushed commit in the normalised repository with its work items', () => {
    const ev = gh(github['push.json'], 'push');
    assert.equal(ev.type, 'push');
    assert.equal(ev.time, '2024-05-01T10:00:05.000Z');
    const key = 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8';
    assert.ok(ev.about.some((a) => a.entity.key === key && a.role === 'head'));
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.from.key === key && r.to.key === 'PROJ-12'));
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'github.com/acme/app#42'));
  });

  it('records a merged pull request as a change including its head and merge commits', () => {
    const ev = gh(github['pull-request-closed-merged.json'], 'pull_request');
    assert.equal(ev.type, 'pull_request.closed');
    assert.equal(ev.stage, 'merge');
    assert.equal(ev.outcome, 'success');
    const change = 'github.com/acme/app!42';
    assert.ok(
      ev.relations.some(
        (r) =>
          r.type === 'INCLUDES' && r.from.key === change && r.to.key === 'github.com/mona/app@0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      ),
    );
    assert.ok(
      ev.relations.some(
        (r) =>
          r.type === 'INCLUDES' && r.from.key === change && r.to.key === 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8',
      ),
    );
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'github.com/acme/app#40'));
  });

  it('says which commit a merged pull request landed as (merge_commit_sha), not its head', () => {
    const ev = gh(github['pull-request-closed-merged.json'], 'pull_request');
    const merged = ev.relations.filter((r) => r.type === 'MERGED_AS').map((r) => [r.from.key, r.to.key]);
    assert.deepEqual(merged, [['github.com/acme/app!42', 'github.com/acme/app@9fceb02d0ae598e95dc970b74767f19372d61af8']]);
  });

  it('names no merge commit for a pull request closed without merging', () => {
    const ev = gh(github['pull-request-closed-unmerged.json'], 'pull_request');
    assert.equal(
      ev.relations.some((r) => r.type === 'MERGED_AS'),
      false,
    );
  });

  it('records a pull request closed without merging as cancelled, without a merge commit', () => {
    const ev = gh(github['pull-request-closed-unmerged.json'], 'pull_request');
    assert.equal(ev.outcome, 'canceled');
    assert.equal(ev.stage, 'review');
    assert.equal(
      ev.about.some((a) => a.role === 'merge'),
      false,
    );
  });

  it('records a branch deletion without a head commit', () => {
    const ev = gh(github['push-branch-deleted.json'], 'push');
    assert.equal(ev.props['deleted'], true);
    assert.equal(ev.entities.filter((e) => e.label === 'Commit').length, 0);
  });

  it('tells a push from its shape when no event header came along, with a hashed id', () => {
    const ev = single(parseMessage(message('github', github['push.json'])));
    assert.equal(ev.type, 'push');
    assert.match(ev.id, /^github:[0-9a-f]{40}$/);
  });

  it('keeps other webhook events as generic events', () => {
    const ev = gh({ action: 'created', repository: github['push.json']!['repository'] }, 'star');
    assert.equal(ev.type, 'star');
    assert.equal(ev.stage, 'other');
  });

  rejectsBadInput('github', {
    valid: github['pull-request-closed-merged.json']!,
    options: { headers: { 'x-not-event': 'pull_request' } },
    removeRequired: (b) => {
      delete b['pull_request']['number'];
      return 'pull_request.number';
    },
    wrongType: (b) => {
      b['pull_request']['title'] = ['x'];
      return 'pull_request.title';
    },
  });
});

describe('GitLab webhooks', () => {
  const gl = (body: unknown) =>
    single(parseMessage(message('gitlab', body, { headers: { 'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e' } })));

  it('parses every sample', () => {
    assert.ok(Object.keys(gitlab).length >= 3);
    for (const [file, body] of Object.entries(gitlab)) assert.equal(parseMessage(message('gitlab', body)).ok, true, file);
  });

  it('records a push with its commits and the event UUID as id', () => {
    const ev = gl(gitlab['push.json']);
    assert.equal(ev.id, 'gitlab:13792a34-cac6-4fda-95a8-c58e00a3954e');
    assert.equal(ev.time, '2012-01-03T21:36:29.000Z');
    assert.equal(ev.entities.filter((e) => e.label === 'Commit').length, 2);
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'DIA-101'));
  });

  it('records a merged merge request with its source commit and merge commit', () => {
    const ev = gl(gitlab['merge-request-merged.json']);
    assert.equal(ev.type, 'merge_request.merge');
    assert.equal(ev.outcome, 'success');
    const change = 'gitlab.example.com/gitlabhq/gitlab-test!1';
    assert.ok(
      ev.relations.some(
        (r) =>
          r.type === 'INCLUDES' &&
          r.from.key === change &&
          r.to.key === 'gitlab.example.com/awesome_space/awesome_project@da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      ),
    );
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'GT-8'));
    const merged = ev.relations.filter((r) => r.type === 'MERGED_AS').map((r) => [r.from.key, r.to.key]);
    assert.deepEqual(merged, [[change, 'gitlab.example.com/gitlabhq/gitlab-test@a8a0f4d7e2d1c9b0a1b2c3d4e5f60718293a4b5c']]);
  });

  it('reads the old "UTC" time form and a closed merge request', () => {
    const ev = gl(gitlab['merge-request-closed-old-dates.json']);
    assert.equal(ev.time, '2013-12-03T17:23:34.000Z');
    assert.equal(ev.outcome, 'canceled');
  });

  it('records a tag push on its tag', () => {
    const ev = gl(gitlab['tag-push.json']);
    assert.equal(ev.props['tag'], 'v1.0.0');
    assert.ok(ev.about.some((a) => a.role === 'head'));
  });

  rejectsBadInput('gitlab', {
    valid: gitlab['merge-request-merged.json']!,
    removeRequired: (b) => {
      delete b['object_attributes']['iid'];
      return 'object_attributes.iid';
    },
    wrongType: (b) => {
      b['object_attributes']['last_commit'] = 'da15608';
      return 'object_attributes.last_commit';
    },
  });
});

describe('Gitea webhooks', () => {
  const gt = (body: unknown, event: string) =>
    single(
      parseMessage(
        message('gitea', body, { headers: { 'X-Gitea-Event': event, 'X-Gitea-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473' } }),
      ),
    );

  it('parses every sample', () => {
    assert.ok(Object.keys(gitea).length >= 3);
    for (const [file, body] of Object.entries(gitea)) {
      assert.equal(parseMessage(message('gitea', body, { headers: { 'X-Gitea-Event': eventOf(file) } })).ok, true, file);
    }
  });

  it('records a push with the Gitea delivery id', () => {
    const ev = gt(gitea['push.json'], 'push');
    assert.equal(ev.id, 'gitea:f6266f16-1bf3-46a5-9ea4-602e06ead473');
    assert.ok(ev.relations.some((r) => r.type === 'REFERENCES' && r.to.key === 'LIB-9'));
  });

  it('gives the opened and the merged pull request the same change', () => {
    const a = gt(gitea['pull-request-opened.json'], 'pull_request');
    const b = gt(gitea['pull-request-closed-merged.json'], 'pull_request');
    assert.equal(a.stage, 'review');
    assert.equal(b.stage, 'merge');
    const key = (e: typeof a) => e.entities.find((x) => x.label === 'Change')?.key;
    assert.equal(key(a), 'gitea.gbg.example.org/platform/lib!7');
    assert.equal(key(a), key(b));
  });

  rejectsBadInput('gitea', {
    valid: gitea['push.json']!,
    options: { headers: { 'X-Gitea-Event': 'push' } },
    removeRequired: (b) => {
      delete b['commits'][0]['id'];
      return 'commits[0].id';
    },
    wrongType: (b) => {
      b['ref'] = 7;
      return 'ref';
    },
  });
});
