import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { findInArchive, metricSum, testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

const PORT = 8960;
const base = `http://127.0.0.1:${PORT}/webhooks`;
const secret = 'webhook-secret-for-tests';
const site = 'site-wh';

function github(body: string, delivery: string, key = secret) {
  return fetch(`${base}/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${createHmac('sha256', key).update(body).digest('hex')}`,
    },
    body,
  });
}

describe('the relay takes webhooks', () => {
  let status: MeshStatus;
  let relay: ReturnType<typeof startApp>;

  before(async () => {
    status = await testStatus();
    const s = status.sites[0]!;
    const management = { url: s.management, user: s.user, password: s.password };
    relay = startApp(
      'relay',
      writeTempConfig('relay', {
        site,
        central: { urls: [status.central.amqp] },
        brokers: [
          { name: 'main', url: s.amqp, management },
          // Same management API, but an AMQP port nothing listens on: the broker is "down" for publishing.
          { name: 'down', url: 'amqp://admin:x@127.0.0.1:1', management },
        ],
        sources: [],
        webhooks: { broker: 'main', secrets: { github: secret, 'git-hook': secret }, maxBytes: 4096 },
        http: { port: PORT },
        reconcileIntervalSeconds: 2,
      }),
    );
    await waitUntil(
      'the test relay to be ready',
      async () => {
        if (relay.exitCode !== null) throw new Error(`relay exited: ${relay.output()}`);
        return fetch(`http://127.0.0.1:${PORT}/health/live`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
    );
  });
  after(async () => {
    if (relay) await stopChild(relay);
  });

  it('answers 202 after the broker confirmed and the body reaches central byte for byte', async () => {
    const delivery = randomUUID();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), marker: delivery });
    const res = await github(body, delivery);
    assert.equal(res.status, 202, await res.clone().text());
    assert.deepEqual(await res.json(), { status: 'accepted', deliveryId: delivery, routingKey: `site.${site}.webhooks.github` });
    const found = await findInArchive(status.central.amqp, (m) => m.headers['x-not-delivery-id'] === delivery);
    assert.equal(found.body, body);
    assert.equal(found.routingKey, `site.${site}.webhooks.github`);
    assert.equal(found.headers['x-not-format'], 'github');
    assert.equal(found.headers['x-not-event'], 'push');
  });

  it("takes GitHub's default form content type: signature over the form body, the payload field's JSON published", async () => {
    const delivery = randomUUID();
    const json = JSON.stringify({ ref: 'refs/heads/main', after: 'b'.repeat(40), marker: delivery, text: 'a+b=c & d' });
    const form = new URLSearchParams({ payload: json }).toString();
    const signed = (body: string, key = secret) => ({
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${createHmac('sha256', key).update(body).digest('hex')}`,
      },
      body,
    });
    const res = await fetch(`${base}/github`, signed(form));
    assert.equal(res.status, 202, await res.clone().text());
    const found = await findInArchive(status.central.amqp, (m) => m.headers['x-not-delivery-id'] === delivery);
    assert.equal(found.body, json);
    // A signature over the JSON instead of the form body does not count.
    const wrong = await fetch(`${base}/github`, {
      ...signed(form),
      headers: { ...signed(json).headers, 'x-github-delivery': randomUUID() },
    });
    assert.equal(wrong.status, 401);
    // A form without the payload field is refused, naming the field.
    const empty = await fetch(`${base}/github`, {
      ...signed('other=1'),
      headers: { ...signed('other=1').headers, 'x-github-delivery': randomUUID() },
    });
    assert.equal(empty.status, 400);
    assert.match(((await empty.json()) as { message: string }).message, /^payload: /);
  });

  it('refuses a wrong signature with 401 and publishes nothing', async () => {
    const delivery = randomUUID();
    const res = await github(JSON.stringify({ marker: delivery }), delivery, 'not-the-secret');
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { message: string }).message, /X-Hub-Signature-256 does not match the body/);
    await assert.rejects(
      findInArchive(status.central.amqp, (m) => m.headers['x-not-delivery-id'] === delivery, 3000),
      /no matching message/,
    );
  });

  it('answers 400 for a body that is not JSON, 413 over the limit, 404 for an unknown endpoint', async () => {
    const delivery = randomUUID();
    assert.equal((await github('not json', delivery)).status, 400);
    const big = JSON.stringify({ pad: 'x'.repeat(5000) });
    assert.equal((await github(big, randomUUID())).status, 413);
    const res = await fetch(`${base}/svn`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { message: string }).message, /unknown webhook endpoint; use one of \/webhooks\/github/);
    const generic = await fetch(`${base}/generic?format=svn`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(generic.status, 400);
  });

  it('answers 503 when the site broker cannot take the event, and counts it', async () => {
    // A second relay whose webhooks go to the broker that is down.
    const s = status.sites[0]!;
    const management = { url: s.management, user: s.user, password: s.password };
    const down = startApp(
      'relay',
      writeTempConfig('relay', {
        site: 'site-down',
        central: { urls: [status.central.amqp] },
        brokers: [{ name: 'down', url: 'amqp://admin:x@127.0.0.1:1', management }],
        webhooks: { broker: 'down' },
        http: { port: PORT + 1 },
      }),
    );
    try {
      await waitUntil(
        'the second relay',
        () =>
          fetch(`http://127.0.0.1:${PORT + 1}/health/live`).then(
            (r) => r.ok,
            () => false,
          ),
        60_000,
      );
      const res = await fetch(`http://127.0.0.1:${PORT + 1}/webhooks/generic?format=eiffel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"meta":{}}',
      });
      assert.equal(res.status, 503);
      assert.match(
        ((await res.json()) as { message: string }).message,
        /could not hand the event to the site broker .*connection refused.*retry later/,
      );
      const ready = await fetch(`http://127.0.0.1:${PORT + 1}/health/ready`);
      assert.equal(ready.status, 200, 'management API answers; the AMQP side is reported through 503s');
      assert.equal(
        await metricSum(`http://127.0.0.1:${PORT + 1}`, 'traces_relay_webhook_requests_total', { endpoint: 'generic', result: '503' }),
        1,
      );
    } finally {
      await stopChild(down);
    }
  });

  it('a real git push through the post-receive hook lands at central', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hook-'));
    const bare = join(dir, 'origin.git');
    const work = join(dir, 'work');
    const git = (cwd: string, ...args: string[]) => {
      const r = spawnSync('git', args, {
        cwd,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Ada',
          GIT_AUTHOR_EMAIL: 'ada@example.com',
          GIT_COMMITTER_NAME: 'Ada',
          GIT_COMMITTER_EMAIL: 'ada@example.com',
        },
      });
      assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    git(dir, 'init', '--bare', '-q', bare);
    copyFileSync(join(process.cwd(), 'deploy', 'git', 'post-receive'), join(bare, 'hooks', 'post-receive'));
    spawnSync('chmod', ['+x', join(bare, 'hooks', 'post-receive')]);
    git(bare, 'config', 'not-traces.url', `${base}/git-hook`);
    git(bare, 'config', 'not-traces.token', secret);
    const marker = randomUUID();
    git(bare, 'config', 'not-traces.repository', `https://git.example.com/acme/${marker}.git`);
    git(dir, 'init', '-q', '-b', 'main', work);
    writeFileSync(join(work, 'a.txt'), 'one\n');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'PAY-42 first change');
    writeFileSync(join(work, 'a.txt'), 'two\n');
    git(work, 'commit', '-q', '-am', 'second change\n\nwith a body');
    const push = git(work, 'push', '-q', bare, 'main');
    assert.match(push.stderr, /not-traces: reported refs\/heads\/main \(2 commit\(s\)\)/);
    const found = await findInArchive(status.central.amqp, (m) => m.body.includes(marker));
    assert.equal(found.routingKey, `site.${site}.webhooks.git-hook`);
    const payload = JSON.parse(found.body);
    assert.equal(payload.ref, 'refs/heads/main');
    assert.equal(payload.before, '0'.repeat(40));
    assert.equal(payload.commits.length, 2);
    assert.equal(payload.commits[0].message, 'PAY-42 first change');
    assert.equal(payload.commits[1].message, 'second change\n\nwith a body');
    assert.deepEqual(payload.commits[1].parents, [payload.commits[0].sha]);
    assert.equal(payload.commits[0].author.email, 'ada@example.com');
    assert.equal(payload.after, payload.commits[1].sha);
  });
});
