import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { testStatus, waitUntil } from '../support/mesh.js';

const fixture = (format: string, file: string): Record<string, any> =>
  JSON.parse(readFileSync(join(process.cwd(), 'libs', 'events', 'fixtures', format, file), 'utf8')) as Record<string, any>;
const meshFile = process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml';

/**
 * Tools that speak HTTP straight to a site relay: Jira's webhooks (signed with X-Hub-Signature) and CDEvents
 * producers posting CloudEvents in binary, structured and batch mode. Driven from outside: relay, central,
 * correlator, Neo4j, explorer and the `traces` command line.
 */
describe('Jira and CloudEvents webhooks through a site relay', () => {
  let status: MeshStatus;
  const number = randomInt(1000, 1_000_000);
  const key = `PAY-${number}`;
  const marker = randomBytes(4).toString('hex');

  const relay = () => status.sites.find((s) => s.id === 'site-a')!.relay;
  async function post(endpoint: string, body: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`${relay().webhooks}/${endpoint}`, { method: 'POST', body, headers });
  }
  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${status.explorer.url}${path}`, { headers: { authorization: `Bearer ${status.explorer.token}` } });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  }

  before(async () => {
    status = await testStatus();
  });

  it('takes a Jira issue, its transitions and the commit naming it as one work-item trace', async () => {
    // Real Jira bodies (libs/events/fixtures/jira), re-keyed to a fresh issue so that the test can run again.
    const rekey = (b: Record<string, any>, ts: number) => {
      b['issue'].key = key;
      b['issue'].id = String(number);
      b['timestamp'] = ts;
      return JSON.stringify(b);
    };
    const t0 = Date.parse('2026-11-02T09:00:00Z');
    const created = rekey(fixture('jira', 'issue-created.json'), t0);
    const started = rekey(fixture('jira', 'derived-issue-transitioned-in-progress.json'), t0 + 3_600_000);
    const done = rekey(fixture('jira', 'issue-resolved-done.json'), t0 + 4 * 3_600_000);
    const sign = (body: string, secret = relay().webhookSecret) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    // A wrong signature is refused and publishes nothing.
    const refused = await post('jira', created, { 'content-type': 'application/json', 'x-hub-signature': sign(created, 'not-the-secret') });
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { message: string }).message, /X-Hub-Signature does not match the body/);
    // Out of order, as webhooks may arrive: done first.
    for (const body of [done, created, started]) {
      const res = await post('jira', body, {
        'content-type': 'application/json',
        'x-hub-signature': sign(body),
        'x-atlassian-webhook-identifier': randomUUID(),
      });
      assert.equal(res.status, 202, await res.text());
    }
    // The commit that names the ticket, through the git hook endpoint.
    const sha = randomBytes(20).toString('hex');
    const push = JSON.stringify({
      repository: `https://git.site-a.example.com/acme/pay-${marker}.git`,
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      pusher: 'ada',
      pushedAt: '2026-11-02T11:00:00Z',
      commits: [
        {
          sha,
          parents: [],
          author: { name: 'Ada', email: 'ada@example.com' },
          time: '2026-11-02T10:59:00Z',
          message: `${key} take payments`,
        },
      ],
    });
    const pushed = await post('git-hook', push, { 'content-type': 'application/json', authorization: `Bearer ${relay().webhookSecret}` });
    assert.equal(pushed.status, 202, await pushed.text());

    type Trace = {
      subject: { kind: string; key: string };
      commits: Array<{ key: string; sha: string | null }>;
      events: Array<{ type: string; stage: string; phase: string | null; time: string; format: string; props: Record<string, unknown> }>;
    };
    let trace: Trace | undefined;
    await waitUntil(
      'the work item trace to hold the three Jira events and the commit',
      async () => {
        const res = await fetch(`${status.explorer.url}/api/v1/trace/work-item/${key}`, {
          headers: { authorization: `Bearer ${status.explorer.token}` },
        });
        if (res.status !== 200) return false;
        trace = (await res.json()) as Trace;
        return trace.events.filter((e) => e.format === 'jira').length === 3 && trace.commits.some((c) => c.sha === sha);
      },
      240_000,
    );
    const history = trace!.events
      .filter((e) => e.format === 'jira')
      .map((e) => [e.time, e.phase, e.props['statusTo'] ?? e.props['status']]);
    assert.deepEqual(history, [
      [new Date(t0).toISOString(), 'created', 'To Do'],
      [new Date(t0 + 3_600_000).toISOString(), 'started', 'In Progress'],
      [new Date(t0 + 4 * 3_600_000).toISOString(), 'finished', 'Done'],
    ]);
    assert.ok(trace!.events.some((e) => e.stage === 'commit' && e.format === 'git-hook'));

    // The command line shows the status history beside the commit.
    const cli = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'traces.js'), 'trace', 'work-item', key, '--config', meshFile], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`work-item ${key}`));
    assert.match(cli.stdout, /To Do -> In Progress/);
    assert.match(cli.stdout, /To Do -> Done/);
    assert.match(cli.stdout, new RegExp(`commits: .*@${sha}`));
  });

  it('takes CloudEvents in binary, structured and batch mode and stores each CDEvent', async () => {
    const base = fixture('cdevents', 'conformance-v0.5-pipelinerun-finished.json');
    const cdevent = (id: string) => ({ ...base, context: { ...base['context'], id, source: `/e2e/${marker}` } });
    const auth = { authorization: `Bearer ${relay().webhookSecret}` };
    const binary = cdevent(`bin-${marker}`);
    const r1 = await post('cloudevents', JSON.stringify(binary), {
      ...auth,
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': binary.context.id,
      'ce-source': binary.context.source,
      'ce-type': binary.context.type,
    });
    assert.equal(r1.status, 202, await r1.clone().text());
    assert.equal(((await r1.json()) as { routingKey: string }).routingKey, 'site.site-a.webhooks.cdevents');
    const structured = cdevent(`str-${marker}`);
    const r2 = await post(
      'cloudevents',
      JSON.stringify({ specversion: '1.0', id: `ce-${marker}`, source: `/e2e/${marker}`, type: structured.context.type, data: structured }),
      { ...auth, 'content-type': 'application/cloudevents+json' },
    );
    assert.equal(r2.status, 202, await r2.text());
    const batch = [cdevent(`b1-${marker}`), cdevent(`b2-${marker}`)].map((d) => ({
      specversion: '1.0',
      id: `ce-${d.context.id}`,
      source: `/e2e/${marker}`,
      type: d.context.type,
      data: d,
    }));
    const r3 = await post('cloudevents', JSON.stringify(batch), { ...auth, 'content-type': 'application/cloudevents-batch+json' });
    assert.equal(r3.status, 202, await r3.text());
    const bad = await post('cloudevents', JSON.stringify(binary), { ...auth, 'content-type': 'application/json' });
    assert.equal(bad.status, 400);

    const ids = ['bin', 'str', 'b1', 'b2'].map((p) => `cdevents:/e2e/${marker}|${p}-${marker}`);
    await waitUntil(
      'the four CDEvents to be in the graph',
      async () => {
        const found = await Promise.all(
          ids.map((id) =>
            fetch(`${status.explorer.url}/api/v1/events/${encodeURIComponent(id)}`, {
              headers: { authorization: `Bearer ${status.explorer.token}` },
            }).then((r) => r.status === 200),
          ),
        );
        return found.every(Boolean);
      },
      240_000,
    );
    const stored = await Promise.all(
      ids.map((id) =>
        api<{ data: Record<string, unknown>; trace: { site: string; format: string } }>(`/api/v1/events/${encodeURIComponent(id)}`),
      ),
    );
    assert.deepEqual(
      stored.map((e) => [e.data['mode'], e.trace.format, e.trace.site]),
      [
        ['binary', 'cdevents', 'site-a'],
        ['structured', 'cdevents', 'site-a'],
        ['structured', 'cdevents', 'site-a'],
        ['structured', 'cdevents', 'site-a'],
      ],
    );
  });
});
