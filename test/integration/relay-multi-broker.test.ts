import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BrokerAdmin, publishConfirmed } from '@not/messaging';
import type { MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import { testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

/** One site whose tools use two brokers (the test mesh's two site nodes play them) and three sources. */
describe('a site with two tool brokers and three sources', () => {
  const site = 'site-multi';
  const sources = [
    { name: 'jenkins', broker: 'ci', format: 'jenkins', exchange: 'multi.jenkins' },
    { name: 'vcs', broker: 'vcs', format: 'gitlab', exchange: 'multi.vcs' },
    { name: 'artifacts', broker: 'ci', format: 'nexus', exchange: 'multi.artifacts' },
  ];
  let status: MeshStatus;
  let relay: ReturnType<typeof startApp>;
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  const queue = `it-multi-${randomUUID().slice(0, 8)}`;

  before(async () => {
    status = await testStatus();
    conn = await amqp.connect(status.central.amqp);
    ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    await ch.bindQueue(queue, 'not.central', `site.${site}.#`);
    const broker = (name: string, i: number) => {
      const s = status.sites[i]!;
      return { name, url: s.amqp, management: { url: s.management, user: s.user, password: s.password } };
    };
    relay = startApp(
      'relay',
      writeTempConfig('relay', {
        site,
        central: { urls: [status.central.amqp] },
        brokers: [broker('ci', 0), broker('vcs', 1)],
        sources,
        http: { port: 8980 },
        reconcileIntervalSeconds: 2,
      }),
    );
    await waitUntil(
      'the relay ready',
      () =>
        fetch('http://127.0.0.1:8980/health/ready').then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
    );
    await waitUntil(
      'three shovels running',
      async () => {
        const states = await Promise.all(
          [0, 1].map((i) => {
            const s = status.sites[i]!;
            return new BrokerAdmin({ url: s.management, user: s.user, password: s.password }).shovelStatus();
          }),
        );
        return sources.every((src) => states.flat().some((x) => x.name === `not-relay-${site}-${src.name}` && x.state === 'running'));
      },
      60_000,
      1000,
    );
  });

  after(async () => {
    if (relay) await stopChild(relay);
    for (const i of [0, 1]) {
      const s = status.sites[i]!;
      const admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
      for (const src of sources) await admin.deleteShovel(`not-relay-${site}-${src.name}`).catch(() => undefined);
    }
    await ch?.deleteQueue(queue).catch(() => undefined);
    await conn?.close().catch(() => undefined);
  });

  it('carries every event of every source to central exactly once, with the site and source in the routing key', async () => {
    const perSource = 200;
    const sent = new Map<string, string>();
    for (const src of sources) {
      const s = status.sites[src.broker === 'ci' ? 0 : 1]!;
      const bodies = Array.from({ length: perSource }, () => {
        const marker = randomUUID();
        sent.set(marker, `site.${site}.${src.name}.${src.format}`);
        return { body: Buffer.from(JSON.stringify({ marker })), routingKey: 'tool.event' };
      });
      await publishConfirmed(s.amqp, src.exchange, bodies);
    }
    const received = new Map<string, string[]>();
    await waitUntil(
      `${sent.size} events at central`,
      async () => {
        for (;;) {
          const m = await ch.get(queue, { noAck: true });
          if (!m) break;
          const { marker } = JSON.parse(m.content.toString()) as { marker: string };
          received.set(marker, [...(received.get(marker) ?? []), m.fields.routingKey]);
        }
        return received.size >= sent.size;
      },
      60_000,
      500,
    );
    assert.equal(received.size, sent.size);
    for (const [marker, keys] of received) {
      assert.deepEqual(keys, [sent.get(marker)], `event ${marker} exactly once with its routing key`);
    }
  });
});
