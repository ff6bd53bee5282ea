import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { IsolatedCentral } from '../support/central.js';
import { countEvents, neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

/** One delivery as the receiver saw it. */
interface Received {
  readonly firing: string;
  readonly commit: string;
}

/**
 * A receiver as a pipeline's webhook endpoint would be: it checks the HMAC-SHA256 signature of the
 * raw body with the subscription's secret on its own (node:crypto, not the project's code), and keeps
 * what it was sent. It can be taken down and brought back on the same port.
 */
class Receiver {
  readonly got: Received[] = [];
  readonly badSignatures: string[] = [];
  secret = '';
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      void body(req).then((raw) => {
        const want = 'sha256=' + createHmac('sha256', this.secret).update(raw).digest('hex');
        const header = String(req.headers['x-traces-signature-256'] ?? '');
        if (header.length !== want.length || !timingSafeEqual(Buffer.from(header), Buffer.from(want))) {
          this.badSignatures.push(header);
          res.writeHead(401).end();
          return;
        }
        const f = JSON.parse(raw) as { firing: string; change: { commit: string } };
        assert.equal(req.headers['idempotency-key'], f.firing, 'the idempotency key is the firing');
        this.got.push({ firing: f.firing, commit: f.change.commit });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    s?.closeAllConnections();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  commits(): string[] {
    return this.got.map((g) => g.commit).sort();
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Subscriptions on the whole mesh: created through the explorer's API, fired by the correlator as a
 * multi-site pipeline's events arrive (shuffled, 10 % sent twice), delivered by webhook to a receiver
 * that checks the signature and over AMQP to a queue bound to the notifications exchange — once per
 * change that reaches promotion, as the pipeline's plan says; and delivered after the receiver was
 * down for a minute.
 */
describe('subscriptions on the mesh: webhook and AMQP deliveries, once per change', () => {
  let status: MeshStatus;
  const run = `n${randomBytes(3).toString('hex')}`;
  const receiver = new Receiver();
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  let queue = '';
  const fromQueue: Received[] = [];
  const subIds: string[] = [];

  const api = async <T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${status.explorer.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${status.explorer.token}`, 'content-type': 'application/json' },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };

  /** Publishes a pipeline at its sites, shuffled, with every tenth event sent twice. */
  async function publish(p: Pipeline): Promise<void> {
    const events = [...p.events, ...p.events.filter((_, i) => i % 10 === 4)];
    for (let i = events.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    for (const e of events) await publishToSite(status, `site-${e.site}`, 'ci', [Buffer.from(JSON.stringify(e.event))]);
  }

  const promoted = (ps: Pipeline[]): string[] =>
    ps
      .flatMap((p) =>
        Object.values(p.commits)
          .filter((c) => c.times.promotion !== undefined)
          .map((c) => `${p.repository}@${c.sha}`),
      )
      .sort();

  before(async () => {
    status = await testStatus();
    await receiver.start();
    conn = await amqp.connect(status.central.amqp);
    ch = await conn.createChannel();
  });
  after(async () => {
    for (const id of subIds) await api(`/api/v1/subscriptions/${id}`, { method: 'DELETE' });
    await receiver.stop();
    await conn?.close();
  });

  it('refuses a malformed subscription with every problem named, and keeps one owner per token name', async () => {
    const bad = await api<{ problems: string[] }>('/api/v1/subscriptions', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', condition: { on: 'stage', stage: 'shipping' }, delivery: { type: 'webhook', url: 'not a url' } }),
    });
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.problems.some((p) => p.startsWith('body condition.stage')),
      bad.body.problems.join('; '),
    );
    assert.ok(
      bad.body.problems.some((p) => p.startsWith('body delivery.url')),
      bad.body.problems.join('; '),
    );
    const missing = await api('/api/v1/subscriptions/sub-0000000000000000');
    assert.equal(missing.status, 404);
  });

  it('delivers a firing per change that reaches promotion, by webhook with a valid signature and by AMQP', async () => {
    const condition = { on: 'stage', stage: 'promotion', change: { repository: `git.example.com/explorer/shop-${run}` } };
    const hook = await api<{ id: string; secret: string; owner: string }>('/api/v1/subscriptions', {
      method: 'POST',
      body: JSON.stringify({
        name: 'promoted (webhook)',
        condition,
        delivery: { type: 'webhook', url: `http://127.0.0.1:${receiver.port}/hook` },
      }),
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    assert.match(hook.body.secret, /^[0-9a-f]{48}$/, 'a generated secret, shown once');
    subIds.push(hook.body.id);
    receiver.secret = hook.body.secret;
    const again = await api<Record<string, unknown>>(`/api/v1/subscriptions/${hook.body.id}`);
    assert.equal(again.body['secret'], undefined, 'the secret is not shown again');

    const bus = await api<{ id: string }>('/api/v1/subscriptions', {
      method: 'POST',
      body: JSON.stringify({ name: 'promoted (amqp)', condition, delivery: { type: 'amqp' } }),
    });
    assert.equal(bus.status, 201, JSON.stringify(bus.body));
    subIds.push(bus.body.id);
    // A pipeline's own broker client: a queue bound to the notifications exchange with the subscription's key.
    await ch.assertExchange('notifications', 'topic', { durable: true });
    queue = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(queue, 'notifications', `subscription.${bus.body.id}`);
    await ch.consume(queue, (m) => {
      if (!m) return;
      const f = JSON.parse(m.content.toString('utf8')) as { firing: string; change: { commit: string } };
      assert.equal(m.properties.messageId, f.firing);
      fromQueue.push({ firing: f.firing, commit: f.change.commit });
      ch.ack(m);
    });

    const pipelines = [eiffelPipeline(`${run}a`, Date.UTC(2032, 0, 1)), eiffelPipeline(`${run}b`, Date.UTC(2032, 0, 2))];
    for (const p of pipelines) await publish(p);
    const want = promoted(pipelines);
    assert.equal(want.length, 4, 'the plan: C1 and C2 of each pipeline reach promotion');
    await waitUntil('a webhook per promoted change', async () => receiver.got.length >= want.length, 120_000);
    await waitUntil('an AMQP message per promoted change', async () => fromQueue.length >= want.length, 120_000);
    // Anything sent twice would have arrived by now.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(receiver.commits(), want);
    assert.deepEqual(fromQueue.map((f) => f.commit).sort(), want);
    assert.deepEqual(receiver.badSignatures, []);
    const firings = await api<Array<{ status: string; subject: string }>>(`/api/v1/subscriptions/${hook.body.id}/firings`);
    assert.deepEqual(
      firings.body.map((f) => f.status),
      ['delivered', 'delivered', 'delivered', 'delivered'],
    );
  });

  it('retries while the receiver is down for a minute, and delivers once it is back', async () => {
    const port = receiver.port;
    await receiver.stop();
    const before = receiver.got.length;
    const p = eiffelPipeline(`${run}c`, Date.UTC(2032, 0, 3));
    await publish(p);
    const hook = subIds[0]!;
    await waitUntil(
      'failed attempts recorded',
      async () => {
        const f = await api<Array<{ status: string; attempts: number; lastError: string | null; subject: string }>>(
          `/api/v1/subscriptions/${hook}/firings`,
        );
        const mine = f.body.filter((x) => x.subject.includes(`${run}c`));
        return (
          mine.length === 2 &&
          mine.every((x) => x.status === 'pending' && x.attempts >= 1 && (x.lastError ?? '').includes(`127.0.0.1:${port}`))
        );
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 60_000));
    await receiver.start(port);
    await waitUntil('the retried deliveries', async () => receiver.got.length >= before + 2, 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(
      receiver.got
        .slice(before)
        .map((g) => g.commit)
        .sort(),
      promoted([p]),
    );
  });

  it('records no firing twice and loses none when a correlator is SIGKILLed mid-stream and the window is replayed', async () => {
    const central = await new IsolatedCentral(status).create();
    const driver = neo4jDriver(status);
    try {
      const ps = [0, 1, 2].map((i) => eiffelPipeline(`${run}k${i}`, Date.UTC(2032, 1, 1 + i)));
      const events = ps.flatMap((p) => p.events.map((e) => e.event));
      const bodies = [...events, ...events.filter((_, i) => i % 10 === 6)];
      for (let i = bodies.length - 1; i > 0; i--) {
        const j = (i * 104_729 + 7) % (i + 1);
        [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
      }
      const ids = events.map((e) => e.meta.id);
      const before = receiver.got.length;
      const half = Math.floor(bodies.length / 2);
      const first = await central.startCorrelator(8957, { size: 10, maxWaitMs: 10 });
      await central.publish(bodies.slice(0, half));
      await waitUntil('some events written', async () => [...(await countEvents(driver, ids)).values()].some((n) => n === 1), 60_000, 100);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('close', r));
      await central.publish(bodies.slice(half));
      await central.startCorrelator(8957, { size: 10, maxWaitMs: 10 });
      const want = promoted(ps);
      const delivered = () => new Set(receiver.got.slice(before).map((g) => g.commit));
      await waitUntil('a webhook per promoted change', async () => delivered().size >= want.length, 120_000);
      // The same window again from the archive.
      const r = spawnSync(
        process.execPath,
        [join(process.cwd(), 'bin', 'traces.js'), 'replay', '--from', '10m', '--url', central.url, '--site', 'site-x'],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      await waitUntil('the replay taken in', async () => (await central.queue('not.ingest')).ready === 0, 60_000);
      await new Promise((res) => setTimeout(res, 5000));
      const mine = receiver.got.slice(before);
      assert.deepEqual([...delivered()].sort(), want);
      // One firing per change: every delivery of a change carries the same firing id (its idempotency key).
      const firingsOf = new Map<string, Set<string>>();
      for (const g of mine) firingsOf.set(g.commit, (firingsOf.get(g.commit) ?? new Set()).add(g.firing));
      for (const [commit, f] of firingsOf) assert.equal(f.size, 1, `${commit}: one firing`);
      const recorded = await api<Array<{ subject: string }>>(`/api/v1/subscriptions/${subIds[0]!}/firings?limit=1000`);
      assert.deepEqual(
        recorded.body
          .map((f) => f.subject)
          .filter((s) => s.includes(`${run}k`))
          .sort(),
        want,
      );
    } finally {
      await central.stop();
      await driver.close();
    }
  });
});
