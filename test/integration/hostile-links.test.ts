import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { publishConfirmed } from '@not/messaging';
import type { Driver } from 'neo4j-driver';
import { FaultProxy } from '../support/fault-proxy.js';
import { countEvents, neo4jDriver, referenceStream, testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

/**
 * A relay of its own whose shovel reaches central through a TCP fault proxy on the loopback
 * interface: the link is black-holed (half-open), slowed (latency, jitter, a bandwidth cap) and
 * flapped while a tool publishes at the site. Central, the mesh's correlator and Neo4j are real.
 */

const RELAY_PORT = 8957;
const SOURCE = 'ci';

function freshEvents(n: number): Array<{ meta: { id: string } }> {
  const stream = referenceStream();
  return Array.from({ length: n }, (_, i) => {
    const e = stream[i % stream.length]!;
    return { ...e, meta: { ...e.meta, id: randomUUID() }, links: [] };
  });
}

/** The relay's own series, by name, for this test's site and source. */
async function relayGauge(name: string, site: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${RELAY_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`site="${site}"`) && l.includes(`source="${SOURCE}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('site links through a hostile network', () => {
  let status: MeshStatus;
  let driver: Driver;
  let proxy: FaultProxy;
  let relay: ReturnType<typeof startApp> | undefined;
  const site = `site-px${randomBytes(2).toString('hex')}`;
  const exchange = `px.ci.${site}`;

  const publish = async (events: ReadonlyArray<{ meta: { id: string } }>): Promise<void> => {
    const s = status.sites[0]!;
    await publishConfirmed(
      s.amqp,
      exchange,
      events.map((e) => ({ body: Buffer.from(JSON.stringify(e)), routingKey: 'EiffelActivityTriggeredEvent' })),
    );
  };
  const allOnce = async (ids: readonly string[]): Promise<boolean> => {
    const counts = await countEvents(driver, ids);
    return ids.every((id) => counts.get(id) === 1);
  };
  const inGraph = async (ids: readonly string[]): Promise<number> =>
    [...(await countEvents(driver, ids)).values()].filter((n) => n === 1).length;
  const buffer = (): Promise<number | undefined> => relayGauge('traces_relay_buffer_messages', site);
  const lastProgress = (): Promise<number | undefined> => relayGauge('traces_relay_link_last_progress_timestamp_seconds', site);

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    proxy = new FaultProxy(Number(new URL(status.central.amqp).port));
    const port = await proxy.listen();
    const s = status.sites[0]!;
    const central = new URL(status.central.amqp);
    central.port = String(port);
    // Short heartbeats, as a site on a WAN would set them: a silent link is noticed in seconds.
    central.searchParams.set('heartbeat', '5');
    relay = startApp(
      'relay',
      writeTempConfig('relay', {
        site,
        central: { urls: [central.toString()] },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: [{ name: SOURCE, broker: 'main', format: 'eiffel', exchange }],
        reconcileIntervalSeconds: 1,
        http: { port: RELAY_PORT },
      }),
    );
    await waitUntil(
      'the relay to be ready and its link to run',
      async () => {
        if (relay!.exitCode !== null) throw new Error(`relay exited: ${relay!.output()}`);
        return (await relayGauge('traces_relay_link_up', site).catch(() => undefined)) === 1;
      },
      90_000,
    );
    const first = freshEvents(50);
    await publish(first);
    await waitUntil('the first events through the healthy proxy', () => allOnce(first.map((e) => e.meta.id)), 90_000, 1000);
    assert.ok(proxy.forwarded.up > 0 && proxy.forwarded.down > 0, 'traffic went through the proxy');
  });

  after(async () => {
    proxy?.heal();
    if (relay) await stopChild(relay);
    await proxy?.close();
    await driver?.close();
  });

  it('holds events at the site while the link is black-holed, shows the link hung, and drains the backlog after', async () => {
    proxy.blackhole();
    const events = freshEvents(300);
    const ids = events.map((e) => e.meta.id);
    await publish(events);
    const holedAt = Date.now() / 1000;
    // Messages wait in the site buffer; the link's progress stops.
    await waitUntil('the backlog to wait in the site buffer', async () => ((await buffer()) ?? 0) > 0, 30_000);
    await new Promise((r) => setTimeout(r, 25_000));
    const progress = (await lastProgress())!;
    // The broker's queue statistics lag by up to its stats interval (5 s), plus a reconcile pass: an
    // acknowledgement from before the black hole can still show up to ~10 s after it.
    assert.ok(progress <= holedAt + 10, `no progress since the link was black-holed (last ${progress - holedAt} s after)`);
    assert.ok(Date.now() / 1000 - progress >= 15, 'the last progress is stale: a hung link');
    assert.ok((await buffer())! > 0, 'the backlog is still at the site');
    assert.ok((await inGraph(ids)) < ids.length, 'not everything got through a black hole');

    proxy.heal();
    await waitUntil('the backlog to drain into the graph, each event once', () => allOnce(ids), 180_000, 1000);
    await waitUntil('the site buffer to be empty', async () => (await buffer()) === 0, 60_000);
    await waitUntil('the link to show progress again', async () => Date.now() / 1000 - (await lastProgress())! < 10, 30_000);
  });

  it('keeps moving on a slow link (latency, jitter, 16 KiB/s): progress stays fresh while a backlog waits', async () => {
    proxy.degrade({ latencyMs: 300, jitterMs: 150, bytesPerSecond: 16 * 1024 });
    // About 400 KiB: half a minute through 16 KiB/s, a backlog the buffer holds meanwhile.
    const events = freshEvents(300);
    const ids = events.map((e) => e.meta.id);
    await publish(events);
    let sawBacklog = false;
    let staleWithBacklog = 0;
    const forwardedBefore = (await relayGauge('traces_relay_link_forwarded_messages_total', site)) ?? 0;
    await waitUntil(
      'all events through the slow link, each once',
      async () => {
        const waiting = (await buffer()) ?? 0;
        if (waiting > 0) {
          sawBacklog = true;
          // Management statistics refresh every 5 s; a slow link shows progress within a few of them.
          if (Date.now() / 1000 - (await lastProgress())! > 15) staleWithBacklog++;
        }
        return allOnce(ids);
      },
      240_000,
      1000,
    );
    assert.ok(sawBacklog, 'the link was slow enough to build a backlog');
    assert.equal(staleWithBacklog, 0, 'a slow link never looks hung');
    await waitUntil(
      'the forwarded counter to count them',
      async () => ((await relayGauge('traces_relay_link_forwarded_messages_total', site)) ?? 0) - forwardedBefore >= ids.length,
      30_000,
    );
    proxy.heal();
  });

  it('loses and doubles nothing on a flapping link, and drains once it is steady', async () => {
    proxy.flap(4000, 4000);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const events = freshEvents(40);
      await publish(events);
      ids.push(...events.map((e) => e.meta.id));
      await new Promise((r) => setTimeout(r, 2000));
    }
    proxy.heal();
    await waitUntil('every event of the flapping period in the graph, once', () => allOnce(ids), 180_000, 1000);
    await waitUntil('the site buffer to be empty', async () => (await buffer()) === 0, 60_000);
  });
});
