import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '@not/config';
import type { MeshStatus } from '@not/mesh';
import { BrokerAdmin, keptRoutingKey } from '@not/messaging';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { ReconcileService } from '../../apps/relay/src/reconcile.service.js';
import { relayConfigSchema, RelaySettings } from '../../apps/relay/src/relay.config.js';
import { RelayMetrics } from '../../apps/relay/src/relay.metrics.js';
import { sharedDir, testStatus, waitUntil } from '../support/mesh.js';

interface Arrived {
  readonly id: string;
  readonly kept: string | undefined;
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

/**
 * `keepRoutingKey` on a real site broker and through a real shovel to central: the tool publishes with
 * its own Sepia routing keys (custom tags and domains), and what central receives carries that key in
 * its `x-death` header beside the central key, with the body and the tool's headers as published.
 */
describe("keepRoutingKey: the tool's routing key reaches central", () => {
  const site = 'site-key';
  const exchange = 'site-key.eiffel';
  const buffer = 'not-relay.site-key.ci';
  const intake = 'not-relay.site-key.ci.intake';
  let status: MeshStatus;
  let admin: BrokerAdmin;
  let siteConn: amqp.ChannelModel;
  let centralConn: amqp.ChannelModel;
  const arrived: Arrived[] = [];
  const template = JSON.parse(
    readFileSync(join(sharedDir(), 'fixtures', 'eiffel', 'examples', 'EiffelArtifactCreatedEvent', 'simple.json'), 'utf8'),
  ) as { meta: Record<string, unknown> };

  function reconciler(keepRoutingKey: boolean, maxLength = 1000) {
    const s = status.sites[0]!;
    const config = validateConfig(
      {
        site,
        central: { urls: [status.central.amqp] },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: [{ name: 'ci', broker: 'main', format: 'eiffel', exchange, keepRoutingKey, maxLength }],
        http: { port: 1 },
      },
      relayConfigSchema,
      'test',
    );
    const registry = new Registry();
    return { service: new ReconcileService(new RelaySettings(config), new RelayMetrics(registry)), registry };
  }

  /** Routing keys from the exchange to a queue, as the site broker lists them. */
  async function bindings(queue: string): Promise<string[]> {
    const s = status.sites[0]!;
    const res = await fetch(`${s.management}/api/bindings/%2F/e/${encodeURIComponent(exchange)}/q/${encodeURIComponent(queue)}`, {
      headers: { authorization: `Basic ${Buffer.from(`${s.user}:${s.password}`).toString('base64')}` },
    });
    assert.ok(res.ok, `bindings of ${queue}: ${res.status}`);
    return ((await res.json()) as Array<{ routing_key: string }>).map((b) => b.routing_key).sort();
  }

  /** Publishes each event with its key at the site, one confirm each; how many the broker accepted. */
  async function publish(items: ReadonlyArray<{ id: string; key: string }>): Promise<string[]> {
    const ch = await siteConn.createConfirmChannel();
    const accepted: string[] = [];
    for (const { id, key } of items) {
      const body = Buffer.from(JSON.stringify({ ...template, meta: { ...template.meta, id } }));
      const ok = await new Promise<boolean>((resolve) => {
        ch.publish(exchange, key, body, { persistent: true, headers: { 'x-tool': 'eiffel-broadcaster' } }, (err) => resolve(!err));
      });
      if (ok) accepted.push(id);
    }
    await ch.close().catch(() => undefined);
    return accepted;
  }

  const arrivedOnce = (ids: readonly string[]) =>
    waitUntil(`${ids.length} events at central`, () => Promise.resolve(ids.every((id) => arrived.some((a) => a.id === id))), 60_000);

  before(async () => {
    status = await testStatus();
    const s = status.sites[0]!;
    admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
    siteConn = await amqp.connect(s.amqp);
    centralConn = await amqp.connect(status.central.amqp);
    const ch = await centralConn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, status.central.exchange, `site.${site}.#`);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const body = m.content.toString('utf8');
        const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
        const id = (JSON.parse(body) as { meta: { id: string } }).meta.id;
        arrived.push({ id, kept: keptRoutingKey(headers, site, 'ci'), body, headers });
      },
      { noAck: true },
    );
  });

  after(async () => {
    await admin.deleteShovel('not-relay-site-key-ci').catch(() => undefined);
    for (const p of ['not-relay-site-key-ci', intake]) await admin.deletePolicy(p).catch(() => undefined);
    const ch = await siteConn.createChannel();
    for (const q of [buffer, intake]) await ch.deleteQueue(q).catch(() => undefined);
    await ch.deleteExchange(exchange).catch(() => undefined);
    await siteConn.close();
    await centralConn.close();
  });

  it('binds the intake queue in the buffer’s place, handing every message on to the buffer under the relay’s policy', async () => {
    const { service } = reconciler(true);
    await service.reconcile();
    assert.deepEqual(await bindings(intake), ['#']);
    assert.deepEqual(await bindings(buffer), [], 'the buffer is fed by the intake only: every message passes it once');
    let q = await admin.queue(intake);
    assert.equal(q.type, 'quorum', 'at-least-once dead-lettering needs a quorum source queue');
    await waitUntil(
      'the intake policy reported in effect',
      async () => {
        q = await admin.queue(intake);
        return q.effective_policy_definition !== undefined;
      },
      30_000,
    );
    assert.equal(q.policy, intake);
    assert.deepEqual(q.effective_policy_definition, {
      'message-ttl': 0,
      'dead-letter-exchange': '',
      'dead-letter-routing-key': buffer,
      'dead-letter-strategy': 'at-least-once',
      'max-length': 1000,
      overflow: 'reject-publish',
    });
  });

  it('carries the key each tool published with to central, body and headers as published, also after the link was down', async () => {
    const { service } = reconciler(true);
    await service.reconcile();
    // Custom tags and domains other than the event's: what a built key cannot know.
    const live = [
      { id: randomUUID(), key: 'eiffel.artifact.EiffelArtifactCreatedEvent.release-7.gothenburg.example.com' },
      { id: randomUUID(), key: 'eiffel.artifact.EiffelArtifactCreatedEvent.nightly.build-farm.b' },
    ];
    assert.equal((await publish(live)).length, live.length);
    await arrivedOnce(live.map((x) => x.id));
    // The link down: what the tool publishes waits in the buffer, with its key, until the shovel is back.
    await admin.deleteShovel('not-relay-site-key-ci');
    const later = [{ id: randomUUID(), key: 'eiffel.artifact.EiffelArtifactCreatedEvent.hotfix.gothenburg.example.com' }];
    assert.equal((await publish(later)).length, 1);
    await waitUntil('the event in the buffer', async () => (await admin.queue(buffer)).messages === 1, 30_000);
    await service.reconcile();
    await arrivedOnce(later.map((x) => x.id));
    for (const { id, key } of [...live, ...later]) {
      const got = arrived.filter((a) => a.id === id);
      assert.equal(got.length, 1, `${id} once`);
      assert.equal(got[0]!.kept, key, 'the routing key the tool published with');
      assert.deepEqual(JSON.parse(got[0]!.body), { ...template, meta: { ...template.meta, id } });
      assert.equal(got[0]!.headers['x-tool'], 'eiffel-broadcaster', "the tool's own headers kept");
    }
  });

  it('holds back in the intake, never drops, what a full buffer refuses', async () => {
    const { service, registry } = reconciler(true, 2);
    await service.reconcile();
    await admin.deleteShovel('not-relay-site-key-ci');
    const items = Array.from({ length: 8 }, (_, i) => ({ id: randomUUID(), key: `eiffel.artifact.EiffelArtifactCreatedEvent.t${i}.d` }));
    const accepted = await publish(items);
    // Both queues refuse past their limit (a quorum queue takes one more): the tool is told (a nack), none is dropped.
    assert.ok(accepted.length >= 3 && accepted.length < items.length, `accepted ${accepted.length} of ${items.length}`);
    let held = 0;
    await waitUntil(
      'every accepted message counted in the buffer or the intake',
      async () => {
        const [b, i] = await Promise.all([admin.queue(buffer), admin.queue(intake)]);
        held = (b.messages ?? 0) + (i.messages ?? 0);
        return held === accepted.length;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${held} of ${accepted.length} held`, { cause: err });
    });
    await service.reconcile();
    assert.match(
      await registry.metrics(),
      new RegExp(`traces_relay_buffer_messages\\{site="${site}",source="ci"\\} ${accepted.length}\\b`),
      'what waits at the site counts the intake too',
    );
  });

  it('switched off, binds the buffer again and unbinds the intake', async () => {
    const ch = await siteConn.createChannel();
    await ch.purgeQueue(buffer);
    await ch.close();
    const { service } = reconciler(false, 1000);
    await service.reconcile();
    assert.deepEqual(await bindings(buffer), ['#']);
    assert.deepEqual(await bindings(intake), []);
    const plain = [{ id: randomUUID(), key: 'eiffel.artifact.EiffelArtifactCreatedEvent.notag.d' }];
    await publish(plain);
    await arrivedOnce(plain.map((x) => x.id));
    assert.equal(arrived.find((a) => a.id === plain[0]!.id)!.kept, undefined, 'no kept key: central builds one');
  });
});
