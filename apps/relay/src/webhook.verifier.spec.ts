import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { deliveryId, verifyWebhook } from './webhook.verifier.js';

const body = Buffer.from('{"ref":"refs/heads/main"}');
const secret = 's3cret';
const hex = (algo: string, key = secret) => createHmac(algo, key).update(body).digest('hex');

describe('webhook signatures', () => {
  it('accepts a GitHub X-Hub-Signature-256 made with the secret and refuses one made with another', () => {
    assert.equal(verifyWebhook('github', secret, { 'x-hub-signature-256': `sha256=${hex('sha256')}` }, body), undefined);
    assert.equal(
      verifyWebhook('github', secret, { 'x-hub-signature-256': `sha256=${hex('sha256', 'other')}` }, body),
      'X-Hub-Signature-256 does not match the body',
    );
    assert.equal(verifyWebhook('github', secret, {}, body), 'missing X-Hub-Signature-256 header');
  });

  it('checks Gitea and Nexus HMACs over the exact bytes', () => {
    assert.equal(verifyWebhook('gitea', secret, { 'x-gitea-signature': hex('sha256') }, body), undefined);
    assert.equal(verifyWebhook('nexus', secret, { 'x-nexus-webhook-signature': hex('sha1') }, body), undefined);
    const changed = Buffer.from('{"ref":"refs/heads/evil"}');
    assert.match(verifyWebhook('nexus', secret, { 'x-nexus-webhook-signature': hex('sha1') }, changed)!, /does not match/);
  });

  it('compares GitLab tokens and bearer tokens', () => {
    assert.equal(verifyWebhook('gitlab', secret, { 'x-gitlab-token': secret }, body), undefined);
    assert.equal(verifyWebhook('gitlab', secret, { 'x-gitlab-token': 'nope' }, body), 'X-Gitlab-Token is wrong');
    assert.equal(verifyWebhook('git-hook', secret, { authorization: `Bearer ${secret}` }, body), undefined);
    assert.equal(verifyWebhook('generic', secret, { authorization: 'Basic abc' }, body), 'missing "Authorization: Bearer <token>" header');
  });

  it('checks a Jira admin webhook X-Hub-Signature (sha256=<HMAC-SHA256 of the body>)', () => {
    assert.equal(verifyWebhook('jira', secret, { 'x-hub-signature': `sha256=${hex('sha256')}` }, body), undefined);
    assert.equal(
      verifyWebhook('jira', secret, { 'x-hub-signature': `sha256=${hex('sha256', 'other')}` }, body),
      'X-Hub-Signature does not match the body',
    );
    assert.equal(
      verifyWebhook('jira', secret, { 'x-hub-signature-256': `sha256=${hex('sha256')}` }, body),
      'missing X-Hub-Signature header',
    );
    assert.equal(deliveryId('jira', { 'x-atlassian-webhook-identifier': '3a7b-1' }), '3a7b-1');
  });

  it('takes the tool delivery id from its own header', () => {
    assert.equal(deliveryId('github', { 'x-github-delivery': 'abc-1' }), 'abc-1');
    assert.equal(deliveryId('gitlab', { 'x-gitlab-event-uuid': 'u-2' }), 'u-2');
    assert.equal(deliveryId('verdaccio', {}), undefined);
  });
});
