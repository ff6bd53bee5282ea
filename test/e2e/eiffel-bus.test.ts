import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { publishConfirmed } from '@not/messaging';
import amqp from 'amqplib';
import { sharedDir, testStatus, waitUntil } from '../support/mesh.js';

interface Received {
  readonly key: string;
  readonly body: Record<string, unknown>;
}

/**
 * The central Eiffel bus as a plain Eiffel consumer sees it: a queue at central bound by type, receiving
 * the events of every site, each once, with the Sepia routing key its tool published it with (site-a)
 * or the standard one built from it (site-b), and exactly as published — after the sites published
 * them shuffled, some twice, and one at both sites.
 */
describe('central Eiffel bus: a plain AMQP consumer at central binds by type and sees every site', () => {
  let status: MeshStatus;
  let conn: amqp.ChannelModel;
  const received: Received[] = [];
  const run = randomBytes(3).toString('hex');
  const template = JSON.parse(
    readFileSync(join(sharedDir(), 'fixtures', 'eiffel', 'examples', 'EiffelConfidenceLevelModifiedEvent', 'simple.json'), 'utf8'),
  ) as { meta: Record<string, unknown>; data: Record<string, unknown>; links: unknown[] };
  const artifact = JSON.parse(
    readFileSync(join(sharedDir(), 'fixtures', 'eiffel', 'examples', 'EiffelArtifactCreatedEvent', 'simple.json'), 'utf8'),
  ) as { meta: Record<string, unknown> };
  const clm = (domainId: string) => ({
    ...template,
    meta: { ...template.meta, id: randomUUID(), time: Date.now(), source: { domainId } },
    data: { ...template.data, name: `stable-${run}` },
  });
  const siteA = [1, 2, 3].map(() => clm(`site-a.${run}.example`));
  const siteB = [1, 2, 3].map(() => clm(`site-b.${run}.example`));
  const both = clm(`shared.${run}.example`);
  const other = { ...artifact, meta: { ...artifact.meta, id: randomUUID(), source: { domainId: `site-a.${run}.example` } } };
  /** The Sepia key of a confidence level event (REMReM's form eiffel.<family>.<type>.<tag>.<domainId>). */
  const sepiaKey = (domain: string, tag = 'notag') => `eiffel.verdict.EiffelConfidenceLevelModifiedEvent.${tag}.${domain}`;
  /**
   * site-a's source keeps each tool's routing key (keepRoutingKey in test/mesh.test.yaml): its tools use
   * their own tags and a domain other than the event's, which only the kept key can tell. site-b's does
   * not: its events get the key built from the event, the standard form its tools use.
   */
  const keyAtA = (i: number) => sepiaKey(`gothenburg.${run}.example`, `release-${i}`);

  before(async () => {
    status = await testStatus();
    conn = await amqp.connect(status.central.amqp);
    const ch = await conn.createChannel();
    await ch.assertExchange('eiffel', 'topic', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'eiffel', 'eiffel.#.EiffelConfidenceLevelModifiedEvent.#');
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const body = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
        if ((body['data'] as { name?: string } | undefined)?.name === `stable-${run}`) received.push({ key: m.fields.routingKey, body });
      },
      { noAck: true },
    );
  });

  after(async () => {
    await conn?.close();
  });

  it('receives each confidence level event of both sites once, with its Sepia routing key, exactly as published', async () => {
    const publishes: Array<{ site: string; event: object; key: string }> = [
      ...siteA.map((event, i) => ({ site: 'site-a', event, key: keyAtA(i) })),
      ...siteB.map((event) => ({ site: 'site-b', event, key: sepiaKey(`site-b.${run}.example`) })),
      { site: 'site-a', event: both, key: sepiaKey(`shared.${run}.example`) },
      { site: 'site-b', event: both, key: sepiaKey(`shared.${run}.example`) },
      { site: 'site-a', event: other, key: `eiffel.artifact.EiffelArtifactCreatedEvent.notag.site-a.${run}.example` },
    ];
    // Partly duplicated (a tool that retried), then shuffled.
    publishes.push(publishes[0]!, publishes[4]!);
    for (let i = publishes.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [publishes[i], publishes[j]] = [publishes[j]!, publishes[i]!];
    }
    for (const p of publishes) {
      const site = status.sites.find((s) => s.id === p.site)!;
      const source = site.sources.find((s) => s.format === 'eiffel')!;
      await publishConfirmed(site.amqp, source.exchange, [{ body: Buffer.from(JSON.stringify(p.event)), routingKey: p.key }]);
    }
    const expected = [...siteA, ...siteB, both];
    await waitUntil(
      'every confidence level event on the central Eiffel bus',
      async () => expected.every((e) => received.some((r) => r.body['meta'] && (r.body['meta'] as { id: string }).id === e.meta.id)),
      120_000,
    );
    // Anything sent twice would have arrived by now: the publisher runs right after each commit.
    await new Promise((r) => setTimeout(r, 5_000));
    const ids = received.map((r) => (r.body['meta'] as { id: string }).id);
    assert.equal(ids.length, expected.length, `each event once (got ${ids.length} messages for ${expected.length} events)`);
    assert.deepEqual([...ids].sort(), expected.map((e) => e.meta.id).sort());
    for (const e of expected) {
      const r = received.find((x) => (x.body['meta'] as { id: string }).id === e.meta.id)!;
      const i = siteA.indexOf(e);
      // The shared event came from both sites; the key is either site's, each the standard form of its domain.
      assert.equal(r.key, i >= 0 ? keyAtA(i) : sepiaKey((e.meta.source as { domainId: string }).domainId));
      assert.deepEqual(r.body, e, 'the body exactly as the site published it');
    }
  });
});
