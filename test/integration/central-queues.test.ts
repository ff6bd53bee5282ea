import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { BrokerAdmin, CENTRAL, centralRascalConfig, INGEST_POLICY, ingestPolicy, queueExists } from '@not/messaging';
import amqp from 'amqplib';
import { IsolatedCentral } from '../support/central.js';
import { testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

type Queues = Record<string, { options: { arguments: Record<string, unknown> } }>;

/** The arguments the correlator's topology gives `not.ingest` in one mode (what a broker saw from an earlier version, or from definitions). */
function ingestArguments(mode: 'policy' | 'arguments'): Record<string, unknown> {
  const config = centralRascalConfig({ url: 'amqp://x', prefetch: 1, deliveryLimit: 20, archiveMaxAge: '1D', ingestArguments: mode }) as {
    vhosts: Record<string, { queues: Queues }>;
  };
  return config.vhosts['/']!.queues[CENTRAL.ingestQueue]!.options.arguments;
}

/**
 * The ingest queue's settings as a policy, against the test mesh's central node (a vhost per case):
 * the correlator sets the policy through the management API and declares the queue with its type
 * only, so a new delivery limit applies without declaring the queue again; a queue that exists already
 * (from definitions, an operator or an earlier version) is used as it is, whatever its arguments.
 */
describe("the ingest queue's settings as a policy", () => {
  let status: MeshStatus;
  let admin: BrokerAdmin;
  const centrals: IsolatedCentral[] = [];

  before(async () => {
    status = await testStatus();
    admin = new BrokerAdmin({ url: status.central.management, user: status.central.user, password: status.central.password });
  });
  after(async () => {
    for (const c of centrals) await c.stop();
  });

  async function isolated(): Promise<IsolatedCentral> {
    const c = await new IsolatedCentral(status).create();
    centrals.push(c);
    return c;
  }

  const management = () => ({ url: status.central.management, user: status.central.user, password: status.central.password });

  async function declareAsBefore(central: IsolatedCentral, args: Record<string, unknown>): Promise<void> {
    const conn = await amqp.connect(central.url);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(CENTRAL.ingestQueue, { durable: true, arguments: args });
    } finally {
      await conn.close();
    }
  }

  // No warm-up: these correlators only start (the warm-up is the write path's, tested elsewhere).
  it('sets the policy, declares the queue with its type only, and dead-letters by the policy after the delivery limit', async () => {
    const central = await isolated();
    assert.equal(await queueExists(central.url, CENTRAL.ingestQueue), false);
    const correlator = await central.startCorrelator(8961, undefined, {
      amqp: { url: central.url, prefetch: 100, deliveryLimit: 2, management: management() },
      warmUpEvents: 0,
    });
    assert.equal(await queueExists(central.url, CENTRAL.ingestQueue), true);
    assert.match(correlator.output(), /policy not-ingest set on the central broker \(delivery limit 2\)/);
    const q = await admin.queue(CENTRAL.ingestQueue, central.vhost);
    assert.deepEqual(q.arguments, { 'x-queue-type': 'quorum' }, 'no setting as an argument');
    await waitUntil(
      'the policy applied to the queue',
      async () => (await admin.queue(CENTRAL.ingestQueue, central.vhost)).policy === INGEST_POLICY,
    );
    assert.deepEqual((await admin.queue(CENTRAL.ingestQueue, central.vhost)).effective_policy_definition, ingestPolicy(2).definition);

    // The policy does what the arguments did: a message refused more often than the limit goes to not.dead.
    await stopChild(correlator);
    const conn = await amqp.connect(central.url);
    try {
      const ch = await conn.createConfirmChannel();
      ch.sendToQueue(CENTRAL.ingestQueue, Buffer.from('{"poison":true}'), { persistent: true });
      await ch.waitForConfirms();
      let deliveries = 0;
      await waitUntil(
        'the message dead-lettered after its deliveries',
        async () => {
          const m = await ch.get(CENTRAL.ingestQueue, { noAck: false });
          if (m) {
            deliveries++;
            ch.nack(m, false, true);
          }
          return (await central.queue(CENTRAL.deadQueue)).ready === 1;
        },
        30_000,
        200,
      );
      // RabbitMQ's quorum queues: dead-lettered once the delivery count exceeds the limit (here 2).
      assert.equal(deliveries, 3, 'delivered the limit plus one time');
      assert.equal((await central.queue(CENTRAL.ingestQueue)).ready, 0);
    } finally {
      await conn.close();
    }
  });

  it('changes the delivery limit by changing the policy, not the queue, when the correlator starts with a new one', async () => {
    const central = await isolated();
    await stopChild(
      await central.startCorrelator(8962, undefined, {
        amqp: { url: central.url, prefetch: 100, deliveryLimit: 2, management: management() },
        warmUpEvents: 0,
      }),
    );
    const correlator = await central.startCorrelator(8962, undefined, {
      amqp: { url: central.url, prefetch: 100, deliveryLimit: 7, management: management() },
      warmUpEvents: 0,
    });
    assert.match(correlator.output(), /policy not-ingest set on the central broker \(delivery limit 7\)/);
    assert.doesNotMatch(correlator.output(), /PRECONDITION_FAILED|declared with its settings as arguments/);
    await waitUntil(
      'the new limit in effect',
      async () => (await admin.queue(CENTRAL.ingestQueue, central.vhost)).effective_policy_definition?.['delivery-limit'] === 7,
    );
    assert.deepEqual((await admin.queue(CENTRAL.ingestQueue, central.vhost)).arguments, { 'x-queue-type': 'quorum' });
  });

  it('uses a queue an earlier version declared with its settings as arguments as it is, and says what to do', async () => {
    const central = await isolated();
    await declareAsBefore(central, ingestArguments('arguments'));
    const correlator = await central.startCorrelator(8963, undefined, {
      amqp: { url: central.url, prefetch: 100, deliveryLimit: 5, management: management() },
      warmUpEvents: 0,
    });
    assert.match(
      correlator.output(),
      /not\.ingest was declared with its settings as arguments \(x-dead-letter-exchange=not\.dead, x-dead-letter-strategy=at-least-once, x-overflow=reject-publish, x-delivery-limit=20\), which win over the policy not-ingest/,
    );
    // Consuming works: an event published to this central reaches the correlator's queue and is taken.
    await central.publish([{ not: 'an event' }]);
    await waitUntil('the message taken off the queue', async () => {
      const q = await central.queue(CENTRAL.ingestQueue);
      return q.ready === 0 && q.unacked === 0;
    });
  });

  it('starts on an existing queue when the management API does not answer, and refuses to declare a new one without it', async () => {
    const unreachable = { url: 'http://127.0.0.1:1', user: 'admin', password: 'x' };
    const fresh = await isolated();
    const refused = startApp(
      'correlator',
      writeTempConfig('correlator', {
        amqp: { url: fresh.url, management: unreachable },
        neo4j: { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password },
        http: { port: 8966 },
        warmUpEvents: 0,
      }),
    );
    const code = await new Promise<number | null>((resolve) => refused.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(
      refused.output(),
      /management API could not set the ingest queue's policy: management API at http:\/\/127\.0\.0\.1:1 is unreachable .*not\.ingest does not exist yet .*check setting: amqp\.management/,
    );
    assert.equal(await queueExists(fresh.url, CENTRAL.ingestQueue), false, 'nothing declared');

    const existing = await isolated();
    await declareAsBefore(existing, ingestArguments('policy'));
    const correlator = await existing.startCorrelator(8966, undefined, {
      amqp: { url: existing.url, prefetch: 100, management: unreachable },
      warmUpEvents: 0,
    });
    assert.match(correlator.output(), /using not\.ingest as it is, the policy not-ingest is checked again at the next start/);
  });

  it('without the management API, uses a queue declared by definitions (type only) as it is', async () => {
    const central = await isolated();
    await declareAsBefore(central, ingestArguments('policy'));
    const correlator = await central.startCorrelator(8964, undefined, { warmUpEvents: 0 });
    assert.doesNotMatch(correlator.output(), /PRECONDITION_FAILED/);
    assert.deepEqual((await admin.queue(CENTRAL.ingestQueue, central.vhost)).arguments, { 'x-queue-type': 'quorum' });
  });

  it('without the management API, declares a new queue with its settings as arguments', async () => {
    const central = await isolated();
    await central.startCorrelator(8965, undefined, { warmUpEvents: 0 });
    assert.deepEqual((await admin.queue(CENTRAL.ingestQueue, central.vhost)).arguments, ingestArguments('arguments'));
    assert.equal((await admin.listPolicies(central.vhost)).length, 0, 'no policy set');
  });
});
