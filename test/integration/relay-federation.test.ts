import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BrokerAdmin, publishConfirmed } from '@not/messaging';
import type { MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import { IsolatedCentral } from '../support/central.js';
import { metricSum, testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

const PORT = 8981;
const site = 'site-fed';
const name = `not-relay-${site}-ci`;
const queue = `not-relay.${site}.ci`;

/**
 * Federation mode against real RabbitMQ nodes: the relay keeps, on the central
 * broker, a federation upstream + policy that pull the site's buffer queue into
 * a central queue, and a local shovel from there to the central exchange.
 * Central is a vhost of its own on the test mesh's central node.
 */
describe('the relay federates a source into central', () => {
  let status: MeshStatus;
  let central: IsolatedCentral;
  let centralAdmin: BrokerAdmin;
  let siteAdmin: BrokerAdmin;
  let relay: ReturnType<typeof startApp> | undefined;
  const exchange = `fed.ci.${randomUUID().slice(0, 8)}`;

  function startRelay(sources: unknown[]) {
    const s = status.sites[0]!;
    return startApp(
      'relay',
      writeTempConfig('relay', {
        site,
        central: {
          urls: [central.url],
          management: { url: status.central.management, user: status.central.user, password: status.central.password },
        },
        brokers: [
          { name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } },
          // The same broker, but central is told to pull from a port nothing listens on: a link that cannot come up.
          {
            name: 'unreachable',
            url: s.amqp,
            federationUrl: 'amqp://admin:x@127.0.0.1:1/%2F',
            management: { url: s.management, user: s.user, password: s.password },
          },
        ],
        sources,
        http: { port: PORT },
        reconcileIntervalSeconds: 1,
      }),
    );
  }

  async function ready(child: ReturnType<typeof startApp>): Promise<{ checks: Record<string, { status: string }> }> {
    let body: { checks: Record<string, { status: string }> } | undefined;
    await waitUntil(
      'the federation relay to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`relay exited: ${child.output()}`);
        const res = await fetch(`http://127.0.0.1:${PORT}/health/ready`).catch(() => undefined);
        if (res?.ok) body = (await res.json()) as typeof body;
        return !!res?.ok;
      },
      60_000,
    );
    return body!;
  }

  before(async () => {
    status = await testStatus();
    central = await new IsolatedCentral(status).create();
    centralAdmin = new BrokerAdmin({ url: status.central.management, user: status.central.user, password: status.central.password });
    const s = status.sites[0]!;
    siteAdmin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
    // A source switched from shovel mode: its buffer queue is still the quorum queue shovel mode made.
    await siteAdmin.putQueue(`not-relay.${site}.switch`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const conn = await amqp.connect(central.url);
    const ch = await conn.createChannel();
    await ch.assertExchange('not.central', 'topic', { durable: true });
    await ch.assertQueue('fed-count', { durable: true });
    await ch.bindQueue('fed-count', 'not.central', 'site.#');
    await conn.close();
  });

  after(async () => {
    if (relay) await stopChild(relay);
    await central?.stop();
    const s = status.sites[0]!;
    const auth = `Basic ${Buffer.from(`${s.user}:${s.password}`).toString('base64')}`;
    for (const q of [queue, `not-relay.${site}.cut`, `not-relay.${site}.switch`]) {
      await fetch(`${s.management}/api/queues/%2F/${encodeURIComponent(q)}`, { method: 'DELETE', headers: { authorization: auth } }).catch(
        () => undefined,
      );
    }
    await fetch(`${s.management}/api/exchanges/%2F/${encodeURIComponent(exchange)}`, {
      method: 'DELETE',
      headers: { authorization: auth },
    }).catch(() => undefined);
  });

  it('creates the upstream, policy, queue and shovel on central, none on the site, and reports the link running', async () => {
    relay = startRelay([
      { name: 'ci', broker: 'main', format: 'eiffel', exchange, mode: 'federation', maxLength: 50_000 },
      { name: 'cut', broker: 'unreachable', format: 'eiffel', exchange, mode: 'federation' },
      { name: 'switch', broker: 'main', format: 'eiffel', exchange, mode: 'federation' },
    ]);
    const health = await ready(relay);
    assert.equal(health.checks['central-management']?.status, 'ok', JSON.stringify(health));
    const v = central.vhost;
    const upstream = (await centralAdmin.listFederationUpstreams(v)).find((u) => u.name === name);
    assert.ok(upstream, 'federation upstream on central');
    assert.equal(upstream.value.queue, queue);
    assert.equal(upstream.value['ack-mode'], 'on-confirm');
    const policy = (await centralAdmin.listPolicies(v)).find((p) => p.name === name);
    assert.deepEqual(policy?.definition, { 'federation-upstream': name });
    assert.equal((await centralAdmin.queue(queue, v)).type, 'classic');
    const shovel = (await centralAdmin.listShovelParameters(v)).find((p) => p.name === name);
    assert.equal(shovel?.value['dest-exchange-key'], `site.${site}.ci.eiffel`);
    assert.equal(
      (await siteAdmin.listShovelParameters()).find((p) => p.name === name),
      undefined,
      'no shovel on the site broker in federation mode',
    );
    assert.equal(
      (await siteAdmin.queue(queue)).type,
      'classic',
      'the site keeps a buffer queue (classic: RabbitMQ 3.10 queue federation breaks on quorum upstreams)',
    );
    await waitUntil(
      'the link reported up',
      async () => (await metricSum(`http://127.0.0.1:${PORT}`, 'traces_relay_link_up', { site, source: 'ci', mode: 'federation' })) === 1,
      30_000,
    );
    const links = await centralAdmin.federationLinks(v);
    assert.equal(links.find((l) => l.upstream === name)?.status, 'running');
    assert.equal(await metricSum(`http://127.0.0.1:${PORT}`, 'traces_relay_link_state', { site, source: 'ci', state: 'running' }), 1);
    assert.equal(await metricSum(`http://127.0.0.1:${PORT}`, 'traces_relay_buffer_limit_messages', { site, source: 'ci' }), 50_000);
  });

  it('reports a federation link that cannot reach the site broker as down, with the state the broker gives', async () => {
    const url = `http://127.0.0.1:${PORT}`;
    await waitUntil(
      'the unreachable link reported in error',
      async () => (await metricSum(url, 'traces_relay_link_state', { site, source: 'cut', state: 'error' })) === 1,
      30_000,
    );
    assert.equal(await metricSum(url, 'traces_relay_link_up', { site, source: 'cut', mode: 'federation' }), 0);
    assert.equal(
      await metricSum(url, 'traces_relay_link_up', { site, source: 'ci', mode: 'federation' }),
      1,
      'the other link is unaffected',
    );
    // Logged from the pass after the one that created it.
    await waitUntil(
      'the reason logged',
      async () => /federation link not-relay-site-fed-cut is error: .*econnrefused/i.test(relay!.output()),
      10_000,
    );
  });

  it('refuses to federate a buffer queue of the wrong type, says what to do, and creates nothing for it on central', async () => {
    const url = `http://127.0.0.1:${PORT}`;
    assert.equal(await metricSum(url, 'traces_relay_link_state', { site, source: 'switch', state: 'other' }), 1);
    assert.equal(await metricSum(url, 'traces_relay_link_up', { site, source: 'switch' }), 0);
    assert.match(
      relay!.output(),
      /buffer queue not-relay\.site-fed\.switch on broker \\"main\\" is a quorum queue, but federation mode needs a classic one: switch the source back to shovel mode until the queue is empty/,
    );
    assert.equal(
      (await centralAdmin.listFederationUpstreams(central.vhost)).find((u) => u.name === `not-relay-${site}-switch`),
      undefined,
    );
    assert.equal((await siteAdmin.queue(`not-relay.${site}.switch`)).type, 'quorum', 'the queue and what it holds are left alone');
  });

  it('carries every event published at the source to the central exchange exactly once, byte for byte, with the site routing key', async () => {
    const n = 5000;
    const bodies = Array.from({ length: n }, (_, i) =>
      Buffer.from(JSON.stringify({ meta: { id: randomUUID(), type: 'EiffelActivityTriggeredEvent' }, seq: i })),
    );
    await publishConfirmed(
      status.sites[0]!.amqp,
      exchange,
      bodies.map((body, i) => ({ body, routingKey: `ci.${i % 7}` })),
    );
    const got = new Map<string, number>();
    const keys = new Set<string>();
    const conn = await amqp.connect(central.url);
    try {
      const ch = await conn.createChannel();
      await ch.prefetch(500);
      await ch.consume('fed-count', (m) => {
        if (!m) return;
        const body = m.content.toString('utf8');
        got.set(body, (got.get(body) ?? 0) + 1);
        keys.add(m.fields.routingKey);
        ch.ack(m);
      });
      await waitUntil(`${n} events at central`, async () => got.size >= n, 60_000, 200);
      // Anything duplicated would arrive right behind: keep listening a moment.
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await conn.close();
    }
    assert.equal(got.size, n, 'every event arrived');
    for (const b of bodies) assert.equal(got.get(b.toString('utf8')), 1, `exactly once: ${b.toString('utf8')}`);
    assert.deepEqual([...keys], [`site.${site}.ci.eiffel`]);
    assert.equal((await central.queue(queue)).ready, 0, 'the central federated queue is drained');
  });

  it('removes the upstream, policy, queue and shovel of a removed source, and leaves what it does not own', async () => {
    const v = central.vhost;
    // Someone else's policy and another site's upstream in the same vhost.
    await centralAdmin.putPolicy(
      'someone-elses-policy',
      { pattern: '^other$', 'apply-to': 'queues', priority: 0, definition: { 'max-length': 10 } },
      v,
    );
    await centralAdmin.putFederationUpstream(
      'not-relay-site-other-ci',
      { uri: status.sites[0]!.amqp, queue: 'x', 'ack-mode': 'on-confirm', 'reconnect-delay': 5 },
      v,
    );
    await stopChild(relay!);
    relay = startRelay([]);
    await ready(relay);
    await waitUntil(
      'the federation objects of the removed source gone from central',
      async () => {
        const [ups, pols, shovels, queues] = await Promise.all([
          centralAdmin.listFederationUpstreams(v),
          centralAdmin.listPolicies(v),
          centralAdmin.listShovelParameters(v),
          centralAdmin.listQueues(v),
        ]);
        const ours = (n: string) => n.startsWith(`not-relay-${site}-`) || n.startsWith(`not-relay.${site}.`);
        return ![...ups, ...pols, ...shovels, ...queues].some((x) => ours(x.name));
      },
      30_000,
    );
    assert.ok(
      (await centralAdmin.listPolicies(v)).some((p) => p.name === 'someone-elses-policy'),
      'leaves policies it does not own',
    );
    assert.ok(
      (await centralAdmin.listFederationUpstreams(v)).some((u) => u.name === 'not-relay-site-other-ci'),
      "leaves another site's upstream",
    );
    assert.equal((await centralAdmin.federationLinks(v)).filter((l) => l.upstream === name).length, 0, 'no federation link left running');
    // For each of the two sources: policy and upstream at once; queue and shovel (one action) on a later pass.
    assert.equal(await metricSum(`http://127.0.0.1:${PORT}`, 'traces_relay_reconcile_actions_total', { site, action: 'deleted' }), 6);
  });

  it('keeps the central queue of a removed source, and its shovel, until the shovel has emptied it', async () => {
    const v = central.vhost;
    const drainName = `not-relay-${site}-drain`;
    const drainQueue = `not-relay.${site}.drain`;
    await stopChild(relay!);
    relay = startRelay([{ name: 'drain', broker: 'main', format: 'eiffel', exchange, mode: 'federation' }]);
    await ready(relay);
    await waitUntil(
      'the drain link running',
      async () => (await metricSum(`http://127.0.0.1:${PORT}`, 'traces_relay_link_up', { site, source: 'drain' })) === 1,
      30_000,
    );
    await stopChild(relay);
    // While no relay runs: the central shovel stalls (it reads a queue that does not exist) with events left in the central queue.
    const good = (await centralAdmin.listShovelParameters(v)).find((p) => p.name === drainName)!.value;
    await centralAdmin.putShovel(drainName, { ...good, 'src-queue': 'nowhere' }, v);
    const markers = Array.from({ length: 10 }, () => randomUUID());
    const conn = await amqp.connect(central.url);
    const ch = await conn.createConfirmChannel();
    for (const m of markers) ch.sendToQueue(drainQueue, Buffer.from(JSON.stringify({ marker: m })), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    relay = startRelay([]);
    await ready(relay);
    await waitUntil('the drain reported', async () => /central queue not-relay\.site-fed\.drain still holds/.test(relay!.output()), 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(
      (await centralAdmin.listQueues(v)).some((q) => q.name === drainQueue),
      'the queue stays while it holds events',
    );
    assert.ok(
      (await centralAdmin.listShovelParameters(v)).some((p) => p.name === drainName),
      'its shovel stays',
    );
    assert.ok(!(await centralAdmin.listPolicies(v)).some((p) => p.name === drainName), 'the federation policy is gone at once');
    // The shovel recovers: it empties the queue to the central exchange, and then the relay removes both.
    // Generous wait: the shovel restarts after its reconnect delay, and the queue's depth reaches the
    // management API only with its statistics interval, both slower on a busy machine.
    await centralAdmin.putShovel(drainName, good, v);
    await waitUntil(
      'the drained queue and its shovel removed',
      async () => {
        const [queues, shovels] = await Promise.all([centralAdmin.listQueues(v), centralAdmin.listShovelParameters(v)]);
        return !queues.some((q) => q.name === drainQueue) && !shovels.some((p) => p.name === drainName);
      },
      120_000,
    );
    const bodies = (await central.drain('fed-count', 100)).map((m) => m.body);
    for (const m of markers) assert.equal(bodies.filter((b) => b.includes(m)).length, 1, `event ${m} reached central once`);
  });
});
