import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { publishConfirmed } from '@not/messaging';
import { publishToSite, type MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import type { Driver } from 'neo4j-driver';
import { countEvents, managementGet, neo4jDriver, referenceStream, testMesh, testStatus, waitUntil } from '../support/mesh.js';

function freshEvents(n: number) {
  return referenceStream()
    .slice(0, n)
    .map((e) => ({ ...e, meta: { ...e.meta, id: randomUUID() } }));
}

describe('site links', () => {
  let status: MeshStatus;
  let driver: Driver;
  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
  });
  after(async () => {
    await testMesh().startNode('central');
    await driver?.close();
  });

  it("a site's user on the central broker cannot publish as another site", async () => {
    const a = status.sites[0]!;
    const url = status.central.amqp.replace(
      /\/\/[^@]+@/,
      `//${encodeURIComponent(a.centralUser)}:${encodeURIComponent(a.centralPassword)}@`,
    );
    // Its own prefix is allowed…
    await publishConfirmed(url, 'not.central', [
      { body: Buffer.from(JSON.stringify(freshEvents(1)[0])), routingKey: `site.${a.id}.ci.eiffel` },
    ]);
    // …another site's is refused by the broker itself.
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createConfirmChannel();
      const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
      ch.publish('not.central', 'site.site-b.ci.eiffel', Buffer.from('{}'));
      const err = await closed;
      assert.match(
        err.message,
        /ACCESS_REFUSED - access to topic 'site\.site-b\.ci\.eiffel' in exchange 'not\.central' .* refused for user 'site-site-a'/,
      );
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it('holds what a site publishes while central is down and delivers every event after it returns', async () => {
    const events = freshEvents(500);
    const ids = events.map((e) => e.meta.id);
    const bodies = events.map((e) => Buffer.from(JSON.stringify(e)));
    await publishToSite(status, 'site-a', 'ci', bodies.slice(0, 100));
    await waitUntil(
      'the first 100 in Neo4j',
      async () => [...(await countEvents(driver, ids.slice(0, 100))).values()].every((n) => n === 1),
      60_000,
    );

    await testMesh().stopNode('central');
    const downSince = Date.now();
    await publishToSite(status, 'site-a', 'ci', bodies.slice(100));
    const site = { ...status, central: { ...status.central, management: status.sites[0]!.management } };
    await waitUntil(
      'the site buffer to hold the 400 events',
      async () => {
        const q = await managementGet<{ messages?: number }>(site, '/api/queues/%2F/not-relay.site-a.ci');
        return (q.messages ?? 0) >= 400;
      },
      30_000,
      1000,
    );
    const relayReady = await fetch(`${status.sites[0]!.relay.url}/health/ready`);
    assert.equal(relayReady.status, 503, 'the relay reports central unreachable');
    assert.match(await relayReady.text(), /central broker unreachable/);
    // Central stays down for a minute in all.
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - downSince))));
    await testMesh().startNode('central');

    await waitUntil(
      'all 500 events in Neo4j',
      async () => {
        const counts = await countEvents(driver, ids).catch(() => new Map<string, number>());
        return counts.size === 500 && [...counts.values()].every((n) => n === 1);
      },
      180_000,
      2000,
    );
    const counts = await countEvents(driver, ids);
    assert.equal([...counts.values()].filter((n) => n === 1).length, 500, 'every event exactly once');
  });
});
