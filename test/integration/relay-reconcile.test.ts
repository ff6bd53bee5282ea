import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '@not/config';
import { BrokerAdmin } from '@not/messaging';
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
    for (const name of ['not-relay-site-it-one', 'not-relay-site-it-two']) await admin.deleteShovel(name).catch(() => undefined);
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
    await waitUntil(
      'the recreated shovel running',
      async () => {
        await relay.reconcile();
        return (await admin.shovelStatus()).some((x) => x.name === 'not-relay-site-fix-ci' && x.state === 'running');
      },
      60_000,
      1000,
    );
    assert.match(await registry.metrics(), /traces_relay_reconcile_actions_total\{site="site-fix",action="created"\} 2/);
  });
});
