import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { StoredEvent, WriteResult } from '@not/graph';
import { Registry } from 'prom-client';
import type { BatchWriter } from './batch.writer.js';
import { CorrelatorSettings, correlatorConfigSchema } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';
import { IngestService } from './ingest.service.js';

const examples = join(resolve(process.env['NOT_SHARED_DIR'] ?? join(process.cwd(), '..', 'shared')), 'fixtures', 'eiffel', 'examples');
const example = (type: string): Record<string, unknown> & { meta: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(examples, type, 'simple.json'), 'utf8')) as Record<string, unknown> & { meta: Record<string, unknown> };

function service(eiffelBus = true): { ingest: IngestService; submitted: StoredEvent[] } {
  const submitted: StoredEvent[] = [];
  const writer = {
    submit: (events: readonly StoredEvent[]): Promise<WriteResult> => {
      submitted.push(...events);
      return Promise.resolve({ created: events.length, duplicates: 0, conflicts: [] });
    },
  } as unknown as BatchWriter;
  const config = correlatorConfigSchema.parse({
    amqp: { url: 'amqp://127.0.0.1:1' },
    neo4j: { url: 'bolt://127.0.0.1:1', user: 'neo4j', password: 'secret' },
    http: { port: 1 },
    eiffelBus: { enabled: eiffelBus },
  });
  const settings = new CorrelatorSettings(config);
  return { ingest: new IngestService(writer, new CorrelatorMetrics(new Registry()), settings), submitted };
}

const message = (body: string, headers: Record<string, unknown> = {}) => ({
  body: Buffer.from(body, 'utf8'),
  headers,
  routingKey: 'site.site-a.ci.eiffel',
  redelivered: false,
});

describe('IngestService: bodies as received and the central Eiffel bus', () => {
  it('keeps the message body byte for byte and queues the event with its Sepia key', async () => {
    const { ingest, submitted } = service();
    const text = readFileSync(join(examples, 'EiffelArtifactCreatedEvent', 'simple.json'), 'utf8');
    await ingest.accept(message(text));
    assert.equal(submitted.length, 1);
    assert.equal(submitted[0]!.raw, text);
    assert.equal(submitted[0]!.outbox, 'eiffel.artifact.EiffelArtifactCreatedEvent.notag.site-a');
  });

  it('keeps the routing key the tool used when the site passed it on through its intake queue', async () => {
    const { ingest, submitted } = service();
    const key = 'eiffel.artifact.EiffelArtifactCreatedEvent.release-42.my.domain';
    // The x-death header as RabbitMQ writes it when a message expires from a queue (the dead-lettering
    // guide, "Dead-Lettered Messages": queue, reason, count, exchange, routing-keys, time), newest first:
    // here the intake queue's entry behind an entry of central's own.
    const deaths = [
      { queue: 'not.ingest', reason: 'rejected', count: 1, exchange: 'not.central', 'routing-keys': ['site.site-a.ci.eiffel'] },
      { queue: 'not-relay.site-a.ci.intake', reason: 'expired', count: 1, exchange: 'eiffel', 'routing-keys': [key] },
    ];
    await ingest.accept(message(JSON.stringify(example('EiffelArtifactCreatedEvent')), { 'x-death': deaths }));
    assert.equal(submitted[0]!.outbox, key);
  });

  it("builds the key when the header names another site's or source's intake queue, or is no Sepia key", async () => {
    const built = 'eiffel.artifact.EiffelArtifactCreatedEvent.notag.site-a';
    for (const death of [
      { queue: 'not-relay.site-b.ci.intake', 'routing-keys': ['eiffel.artifact.EiffelArtifactCreatedEvent.t.d'] },
      { queue: 'not-relay.site-a.other.intake', 'routing-keys': ['eiffel.artifact.EiffelArtifactCreatedEvent.t.d'] },
      { queue: 'not-relay.site-a.ci.intake', 'routing-keys': ['eiffel.#'] },
      { queue: 'not-relay.site-a.ci.intake', 'routing-keys': [] },
    ]) {
      const { ingest, submitted } = service();
      await ingest.accept(message(JSON.stringify(example('EiffelArtifactCreatedEvent')), { 'x-death': [death] }));
      assert.equal(submitted[0]!.outbox, built, JSON.stringify(death));
    }
  });

  it('gives each event of an array message its own element as its body', async () => {
    const { ingest, submitted } = service();
    const a = {
      ...example('EiffelArtifactCreatedEvent'),
      meta: { ...example('EiffelArtifactCreatedEvent').meta, id: '11111111-1111-4111-8111-111111111111' },
    };
    const b = {
      ...example('EiffelActivityTriggeredEvent'),
      meta: { ...example('EiffelActivityTriggeredEvent').meta, id: '22222222-2222-4222-8222-222222222222' },
    };
    await ingest.accept(message(JSON.stringify([a, b])));
    assert.deepEqual(
      submitted.map((e) => JSON.parse(e.raw!) as unknown),
      [a, b],
    );
    assert.deepEqual(
      submitted.map((e) => e.outbox),
      ['eiffel.artifact.EiffelArtifactCreatedEvent.notag.site-a', 'eiffel.activity.EiffelActivityTriggeredEvent.notag.site-a'],
    );
  });

  it('queues nothing for the bus when it is off, and still keeps the body', async () => {
    const { ingest, submitted } = service(false);
    const text = JSON.stringify(example('EiffelArtifactCreatedEvent'));
    await ingest.accept(message(text));
    assert.equal(submitted[0]!.raw, text);
    assert.equal(submitted[0]!.outbox, undefined);
  });
});
