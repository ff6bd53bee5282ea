import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RABBIT_BIN, RabbitNode } from '@not/mesh';
import amqp from 'amqplib';
import { waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

const PORT = 8982;
const site = 'site-sd';
const base = `http://127.0.0.1:${PORT}/webhooks/generic?format=eiffel`;

type Outcome = { status: number; deliveryId?: string } | { refused: string };

/** POSTs one webhook on a connection of its own; a refused or reset connection is an outcome, not an error. */
async function send(marker: string): Promise<Outcome> {
  try {
    const res = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ meta: { id: marker, type: 'EiffelActivityTriggeredEvent' } }),
    });
    const text = await res.text();
    return res.status === 202
      ? { status: 202, deliveryId: (JSON.parse(text) as { deliveryId: string }).deliveryId }
      : { status: res.status };
  } catch (err) {
    return { refused: String((err as { cause?: { code?: string } }).cause?.code ?? err) };
  }
}

/**
 * SIGTERM while webhook publishes are in flight: the site broker (a node of this
 * test's own) is made to hold publisher confirms with a memory alarm, so the
 * publishes are provably in flight when the signal arrives.
 */
describe('the relay shuts down gracefully', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-shutdown-'));
  const password = 'shutdown-admin-password';
  const node = new RabbitNode(
    'shutdown-site',
    { amqpPort: 5840, managementPort: 15840, prometheusPort: 15841, distPort: 25840 },
    join(dir, 'state'),
    password,
  );
  let relay: ReturnType<typeof startApp> | undefined;

  function rabbitmqctl(...args: string[]): void {
    const r = spawnSync(join(RABBIT_BIN, 'rabbitmqctl'), ['-n', node.nodeName, ...args], {
      env: { ...process.env, HOME: node.dir, RABBITMQ_NODENAME: node.nodeName },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `rabbitmqctl ${args.join(' ')}: ${r.stderr || r.stdout}`);
  }

  async function memoryAlarm(): Promise<boolean> {
    const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    const nodes = (await (await fetch(`${node.managementUrl()}/api/nodes`, { headers: { authorization: auth } })).json()) as Array<{
      mem_alarm: boolean;
    }>;
    return nodes[0]!.mem_alarm;
  }

  before(async () => {
    await node.start();
    // The node is both the site broker and "central": the webhook shovel carries to not.central on it.
    const conn = await amqp.connect(node.amqpUrl('admin', password));
    const ch = await conn.createChannel();
    await ch.assertExchange('not.central', 'topic', { durable: true });
    await ch.assertQueue('sd-count', { durable: true });
    await ch.bindQueue('sd-count', 'not.central', `site.${site}.#`);
    await conn.close();
    const management = { url: node.managementUrl(), user: 'admin', password };
    relay = startApp(
      'relay',
      writeTempConfig('relay', {
        site,
        central: { urls: [node.amqpUrl('admin', password)] },
        brokers: [{ name: 'main', url: node.amqpUrl('admin', password), management }],
        webhooks: { broker: 'main', confirmTimeoutSeconds: 60 },
        http: { port: PORT },
        reconcileIntervalSeconds: 1,
      }),
    );
    await waitUntil(
      'the relay to be ready',
      async () => {
        if (relay!.exitCode !== null) throw new Error(`relay exited: ${relay!.output()}`);
        return fetch(`http://127.0.0.1:${PORT}/health/ready`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
    );
  });

  after(async () => {
    if (relay) await stopChild(relay);
    await node.stop();
  });

  it('finishes in-flight publishes with 202, answers 503 (or refuses) what comes after SIGTERM, publishes nothing else, and exits 0', async () => {
    const warm = await send(randomUUID());
    assert.equal('status' in warm && warm.status, 202, 'a webhook before the test');

    rabbitmqctl('set_vm_memory_high_watermark', 'absolute', '1');
    await waitUntil('the memory alarm on the site broker', memoryAlarm, 20_000);
    const inFlight = Array.from({ length: 10 }, () => send(randomUUID()));
    // Held by the broker: no confirm, so no answer yet.
    const early = await Promise.race([
      Promise.any(inFlight).then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('waiting'), 1500)),
    ]);
    assert.equal(early, 'waiting', 'the in-flight publishes wait for their confirms');

    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      relay!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    relay!.kill('SIGTERM');
    // The signal arrives asynchronously: a request sent at once could still get in ahead of it (and
    // be one more publish in flight). New requests go only once the relay says it is draining the ten.
    await waitUntil(
      'the relay to start draining',
      async () => /waiting for 10 webhook publishes in flight/.test(relay!.output()),
      20_000,
      50,
    );
    const late: Array<Promise<Outcome>> = [];
    for (let i = 0; i < 10; i++) {
      late.push(send(randomUUID()));
      await new Promise((r) => setTimeout(r, 100));
    }
    const lateOutcomes = await Promise.all(late);
    assert.equal(relay!.exitCode, null, 'the relay is still draining while publishes are in flight');

    rabbitmqctl('set_vm_memory_high_watermark', '0.4');
    await waitUntil('the memory alarm to clear', async () => !(await memoryAlarm()), 20_000);
    const inFlightOutcomes = await Promise.all(inFlight);
    const { code, signal } = await exited;
    assert.equal(signal, null, relay!.output());
    assert.equal(code, 0, relay!.output());

    for (const o of inFlightOutcomes)
      assert.deepEqual('status' in o && o.status, 202, `in-flight publish: ${JSON.stringify(o)}\n${relay!.output()}`);
    for (const o of lateOutcomes) {
      assert.ok(
        ('status' in o && o.status === 503) || ('refused' in o && /ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET/.test(o.refused)),
        `after SIGTERM: ${JSON.stringify(o)}`,
      );
    }
    assert.ok(
      lateOutcomes.some((o) => 'status' in o && o.status === 503),
      'requests during the drain are answered 503',
    );

    // Exactly the accepted ones reached the broker (and central), each once.
    const accepted = [warm, ...inFlightOutcomes].map((o) => ('deliveryId' in o ? o.deliveryId! : ''));
    const seen = new Map<string, number>();
    const conn = await amqp.connect(node.amqpUrl('admin', password));
    try {
      const ch = await conn.createChannel();
      await ch.consume('sd-count', (m) => {
        if (!m) return;
        const id = String(m.properties.headers?.['x-not-delivery-id']);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        ch.ack(m);
      });
      await waitUntil('the accepted webhooks at central', async () => accepted.every((id) => seen.has(id)), 30_000, 200);
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await conn.close();
    }
    assert.deepEqual([...seen.keys()].sort(), [...accepted].sort(), 'only accepted webhooks were published');
    for (const id of accepted) assert.equal(seen.get(id), 1, `exactly once: ${id}`);
  });
});
