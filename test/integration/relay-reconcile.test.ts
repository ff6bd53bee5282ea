import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '@not/config';
import amqp from 'amqplib';
import { BrokerAdmin, type QueueInfo } from '@not/messaging';
import type { MeshStatus } from '@not/mesh';
import { Registry } from 'prom-client';
import { relayConfigSchema } from '../../apps/relay/src/relay.config.js';
import { RelayMetrics } from '../../apps/relay/src/relay.metrics.js';
import { ReconcileService } from '../../apps/relay/src/reconcile.service.js';
import { RelaySettings } from '../../apps/relay/src/relay.config.js';
import { testStatus, waitUntil } from '../support/mesh.js';

describe('the relay reconciles shovels on a real site broker', () => {
  let status: MeshStatus;
  let admin: BrokerAdmin;
  const site = 'site-it';

  function reconciler(sources: Array<{ name: string; exchange: string }>) {
    const s = status.sites[0]!;
    const config = validateConfig(
      {
        site,
        central: { urls: [status.central.amqp] },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: sources.map((x) => ({ ...x, broker: 'main', format: 'eiffel' })),
        http: { port: 1 },
      },
      relayConfigSchema,
      'test',
    );
    const registry = new Registry();
    return { service: new ReconcileService(new RelaySettings(config), new RelayMetrics(registry)), registry };
  }

  before(async () => {
    status = await testStatus();
    const s = status.sites[0]!;
    admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
  });
  after(async () => {
    for (const name of ['not-relay-site-it-one', 'not-relay-site-it-two']) {
      await admin.deleteShovel(name).catch(() => undefined);
      await admin.deletePolicy(name).catch(() => undefined);
    }
  });

  it('creates a buffer queue and a running on-confirm shovel per source', async () => {
    const { service, registry } = reconciler([
      { name: 'one', exchange: 'it.one' },
      { name: 'two', exchange: 'it.two' },
    ]);
    await service.reconcile();
    const params = await admin.listShovelParameters();
    const one = params.find((p) => p.name === 'not-relay-site-it-one');
    assert.ok(one, 'shovel for source one');
    assert.equal(one.value['src-queue'], 'not-relay.site-it.one');
    assert.equal(one.value['ack-mode'], 'on-confirm');
    assert.equal(one.value['dest-exchange-key'], 'site.site-it.one.eiffel');
    const q = await admin.queue('not-relay.site-it.one');
    assert.equal(q.type, 'quorum');
    await waitUntil(
      'both shovels running',
      async () => {
        const st = await admin.shovelStatus();
        return ['one', 'two'].every((n) => st.some((s) => s.name === `not-relay-site-it-${n}` && s.state === 'running'));
      },
      30_000,
    );
    await service.reconcile();
    const metrics = await registry.metrics();
    assert.match(metrics, /traces_relay_link_up\{site="site-it",source="one",mode="shovel"\} 1/);
  });

  it('replaces a shovel whose definition drifted and deletes the shovel of a removed source', async () => {
    const drifted = (await admin.listShovelParameters()).find((p) => p.name === 'not-relay-site-it-one')!;
    await admin.putShovel('not-relay-site-it-one', { ...drifted.value, 'dest-exchange-key': 'tampered' });
    // Someone else's shovel, and another site's, on the same broker.
    await admin.putShovel('someone-elses-shovel', { ...drifted.value, 'src-queue': 'someone-else' });
    await admin.putShovel('not-relay-site-other-ci', { ...drifted.value, 'src-queue': 'someone-else' });
    const { service } = reconciler([{ name: 'one', exchange: 'it.one' }]);
    await service.reconcile();
    const params = await admin.listShovelParameters();
    assert.equal(params.find((p) => p.name === 'not-relay-site-it-one')!.value['dest-exchange-key'], 'site.site-it.one.eiffel');
    assert.equal(
      params.find((p) => p.name === 'not-relay-site-it-two'),
      undefined,
    );
    assert.ok(
      params.some((p) => p.name === 'someone-elses-shovel'),
      'leaves shovels it does not own alone',
    );
    assert.ok(
      params.some((p) => p.name === 'not-relay-site-other-ci'),
      "leaves another site's shovels alone",
    );
    await admin.deleteShovel('someone-elses-shovel');
    await admin.deleteShovel('not-relay-site-other-ci');
  });
});

describe('the relay repairs what is broken by hand', () => {
  let status: MeshStatus;
  let admin: BrokerAdmin;

  before(async () => {
    status = await testStatus();
    const s = status.sites[0]!;
    admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
  });
  after(async () => {
    await admin.deleteShovel('not-relay-site-fix-ci').catch(() => undefined);
    await admin.deletePolicy('not-relay-site-fix-ci').catch(() => undefined);
  });

  function service() {
    const s = status.sites[0]!;
    const config = validateConfig(
      {
        site: 'site-fix',
        central: { urls: [status.central.amqp] },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: [{ name: 'ci', broker: 'main', format: 'eiffel', exchange: 'fix.ci' }],
        http: { port: 1 },
      },
      relayConfigSchema,
      'test',
    );
    const registry = new Registry();
    return { service: new ReconcileService(new RelaySettings(config), new RelayMetrics(registry)), registry };
  }

  it('recreates a shovel and a buffer queue deleted by hand in one pass, and counts it', async () => {
    const { service: relay, registry } = service();
    await relay.reconcile();
    const created = async (): Promise<number> =>
      Number(/traces_relay_reconcile_actions_total\{site="site-fix",action="created"\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    const before = await created();
    await admin.deleteShovel('not-relay-site-fix-ci');
    const auth = `Basic ${Buffer.from(`${status.sites[0]!.user}:${status.sites[0]!.password}`).toString('base64')}`;
    const del = await fetch(`${status.sites[0]!.management}/api/queues/%2F/not-relay.site-fix.ci`, {
      method: 'DELETE',
      headers: { authorization: auth },
    });
    assert.ok(del.ok, `delete queue: ${del.status}`);
    await relay.reconcile();
    assert.ok(
      (await admin.listShovelParameters()).some((p) => p.name === 'not-relay-site-fix-ci'),
      'shovel recreated',
    );
    assert.equal((await admin.queue('not-relay.site-fix.ci')).type, 'quorum', 'queue recreated');
    // What the broker last reported, so a timeout says where the shovel was stuck.
    let seen = 'no status yet';
    await waitUntil(
      'the recreated shovel running',
      async () => {
        await relay.reconcile();
        const st = (await admin.shovelStatus()).find((x) => x.name === 'not-relay-site-fix-ci');
        seen = st ? `${st.state}${st.reason ? `: ${st.reason}` : ''}` : 'not in the shovel status';
        return st?.state === 'running';
      },
      60_000,
      1000,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (the shovel was last ${seen})`, { cause: err });
    });
    const actions = (await registry.metrics()).split('\n').filter((l) => l.startsWith('traces_relay_reconcile_actions_total{'));
    assert.equal(
      await created(),
      before + 1,
      `the shovel counted as created once more (a queue is not an action); actions: ${actions.join(', ')}`,
    );
  });
});

describe("a buffer queue's limit is a policy on the site broker", () => {
  let status: MeshStatus;
  let admin: BrokerAdmin;
  let conn: amqp.ChannelModel;
  // Shovels that cannot reach central: the buffers keep what is published to them.
  const nowhere = 'amqp://u:p@127.0.0.1:1/%2F';

  function reconciler(site: string, maxLength: number) {
    const s = status.sites[0]!;
    const config = validateConfig(
      {
        site,
        central: { urls: [nowhere] },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: [{ name: 'ci', broker: 'main', format: 'eiffel', exchange: `${site}.ci`, maxLength }],
        http: { port: 1 },
      },
      relayConfigSchema,
      'test',
    );
    const registry = new Registry();
    return { service: new ReconcileService(new RelaySettings(config), new RelayMetrics(registry)), registry };
  }

  /**
   * Publishes `n` messages one after another, each confirmed before the next; how many the broker accepted.
   * A quorum queue takes one message past its limit, then refuses (RabbitMQ's quorum queue guide, "length limit").
   */
  async function publish(exchange: string, n: number): Promise<number> {
    const ch = await conn.createConfirmChannel();
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        ch.publish(exchange, 'k', Buffer.from(`m${i}`), { persistent: true }, (err) => resolve(!err));
      });
      if (ok) accepted++;
    }
    await ch.close().catch(() => undefined);
    return accepted;
  }

  /**
   * The queue as the management API reports it once it lists its policy and, when given, the message count
   * (its statistics come seconds after a change: the count is absent or old until then).
   */
  async function reported(queue: string, maxLength: number, messages?: number): Promise<QueueInfo> {
    let q: QueueInfo | undefined;
    await waitUntil(
      `${queue} reported with max-length ${maxLength}${messages === undefined ? '' : ` and ${messages} messages`}`,
      async () => {
        q = await admin.queue(queue);
        return q.effective_policy_definition?.['max-length'] === maxLength && (messages === undefined || q.messages === messages);
      },
      30_000,
    );
    return q!;
  }

  before(async () => {
    status = await testStatus();
    const s = status.sites[0]!;
    admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
    conn = await amqp.connect(s.amqp);
  });
  after(async () => {
    const ch = await conn.createChannel();
    for (const site of ['site-pol', 'site-old']) {
      await admin.deleteShovel(`not-relay-${site}-ci`).catch(() => undefined);
      await admin.deletePolicy(`not-relay-${site}-ci`).catch(() => undefined);
      await ch.deleteQueue(`not-relay.${site}.ci`).catch(() => undefined);
      await ch.deleteExchange(`${site}.ci`).catch(() => undefined);
    }
    await conn.close();
  });

  it('declares the queue without limit arguments, its policy in effect from the first message, refusing what exceeds it', async () => {
    const { service } = reconciler('site-pol', 3);
    await service.reconcile();
    // Published to at once: the limit holds from the first message, before the broker even reports it.
    assert.equal(await publish('site-pol.ci', 6), 4, 'reject-publish: refused (nacked) past the limit of 3 (+1)');
    const q = await reported('not-relay.site-pol.ci', 3, 4);
    assert.deepEqual(q.arguments, { 'x-queue-type': 'quorum' });
    assert.equal(q.policy, 'not-relay-site-pol-ci');
    assert.deepEqual(q.effective_policy_definition, { 'max-length': 3, overflow: 'reject-publish' });
    assert.equal(q.messages, 4, 'none of those accepted dropped');
  });

  it('changes the limit when the config changes, without declaring the queue again', async () => {
    const { service, registry } = reconciler('site-pol', 5);
    await service.reconcile();
    assert.equal(await publish('site-pol.ci', 4), 2, 'from 4 to the new limit of 5 (+1)');
    const q = await reported('not-relay.site-pol.ci', 5, 6);
    assert.deepEqual(q.effective_policy_definition, { 'max-length': 5, overflow: 'reject-publish' });
    assert.deepEqual(q.arguments, { 'x-queue-type': 'quorum' });
    assert.equal(q.messages, 6, 'the same queue, with what it held and the two accepted');
    await service.reconcile();
    assert.match(await registry.metrics(), /traces_relay_buffer_limit_messages\{site="site-pol",source="ci"\} 5/);
  });

  it('keeps starting on a queue an earlier relay declared with limit arguments, the smaller limit in effect', async () => {
    const ch = await conn.createChannel();
    await ch.assertQueue('not-relay.site-old.ci', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-max-length': 2, 'x-overflow': 'reject-publish' },
    });
    await ch.close();
    const { service, registry } = reconciler('site-old', 10);
    await service.reconcile();
    assert.match(
      await registry.metrics(),
      /traces_relay_last_reconcile_success_timestamp_seconds\{site="site-old"\} \d/,
      'the pass succeeded',
    );
    const q = await reported('not-relay.site-old.ci', 10);
    await service.reconcile();
    const metrics = await registry.metrics();
    assert.equal(q.arguments?.['x-max-length'], 2, 'not declared again');
    assert.deepEqual(q.effective_policy_definition, { 'max-length': 10, overflow: 'reject-publish' });
    assert.match(metrics, /traces_relay_buffer_limit_messages\{site="site-old",source="ci"\} 2/);
    // Bound like a new one: what the tool publishes reaches it, up to the smaller limit.
    assert.equal(await publish('site-old.ci', 5), 3, 'up to the limit of 2 (+1)');
  });
});
