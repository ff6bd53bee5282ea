import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { publishConfirmed } from '@not/messaging';
import type { MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { countEvents, neo4jDriver, referenceStream, testMesh, testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

/** A vhost of its own on the central node, so this correlator shares no queue with the mesh's. */
async function createVhost(status: MeshStatus, vhost: string): Promise<string> {
  const auth = `Basic ${Buffer.from(`${status.central.user}:${status.central.password}`).toString('base64')}`;
  const headers = { authorization: auth, 'content-type': 'application/json' };
  const base = status.central.management;
  for (const [path, body] of [
    [`/api/vhosts/${vhost}`, {}],
    [`/api/permissions/${vhost}/${status.central.user}`, { configure: '.*', write: '.*', read: '.*' }],
  ] as const) {
    const res = await fetch(`${base}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
    assert.ok(res.ok, `PUT ${path}: ${res.status}`);
  }
  return status.central.amqp.replace(/\/%2F$/, `/${vhost}`);
}

async function queueDepth(status: MeshStatus, vhost: string): Promise<{ ready: number; unacked: number }> {
  const auth = `Basic ${Buffer.from(`${status.central.user}:${status.central.password}`).toString('base64')}`;
  const res = await fetch(`${status.central.management}/api/queues/${vhost}/not.ingest`, { headers: { authorization: auth } });
  const q = (await res.json()) as { messages_ready?: number; messages_unacknowledged?: number };
  return { ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0 };
}

describe('a Neo4j outage while events are being published', () => {
  let status: MeshStatus;
  let driver: Driver;
  let correlator: ReturnType<typeof startApp> | undefined;
  const vhost = `outage-${randomBytes(4).toString('hex')}`;
  // Fresh ids so that no other test has written them.
  const events = referenceStream()
    .slice(0, 300)
    .map((e) => ({ ...e, meta: { ...e.meta, id: randomUUID() } }));
  const ids = events.map((e) => e.meta.id);

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    const url = await createVhost(status, vhost);
    correlator = startApp(
      'correlator',
      writeTempConfig('correlator', {
        amqp: { url, prefetch: 100 },
        neo4j: { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password },
        batch: { size: 50, maxWaitMs: 20 },
        http: { port: 8950 },
      }),
    );
    await waitUntil('the test correlator to be ready', async () => {
      if (correlator!.exitCode !== null) throw new Error(`correlator exited: ${correlator!.output()}`);
      return fetch('http://127.0.0.1:8950/health/ready').then((r) => r.ok, () => false);
    });
  });

  after(async () => {
    if (correlator) await stopChild(correlator);
    await testMesh().startNeo4j();
    await driver?.close();
  });

  it('holds the events in the broker and writes every one exactly once when Neo4j is back', async () => {
    const url = status.central.amqp.replace(/\/%2F$/, `/${vhost}`);
    const publish = (list: typeof events) =>
      publishConfirmed(
        url,
        'not.central',
        list.map((e) => ({ body: Buffer.from(JSON.stringify(e)), routingKey: 'site.site-x.ci.eiffel' })),
      );

    await publish(events.slice(0, 100));
    await waitUntil('the first 100 events in Neo4j', async () => [...(await countEvents(driver, ids.slice(0, 100))).values()].every((n) => n === 1));

    await testMesh().stopNeo4j();
    await publish(events.slice(100));
    // The correlator cannot write: the events wait in the broker, none is acked or lost.
    await waitUntil('the correlator to hold the events', async () => {
      const q = await queueDepth(status, vhost);
      return q.ready + q.unacked === 200;
    }, 30_000, 1000);
    await new Promise((r) => setTimeout(r, 3000));
    const held = await queueDepth(status, vhost);
    assert.equal(held.ready + held.unacked, 200, 'all 200 events still in the broker while Neo4j is down');
    assert.equal(correlator!.exitCode, null, 'the correlator keeps running');

    await testMesh().startNeo4j();
    await driver.close();
    driver = neo4jDriver(status);
    await waitUntil('all 300 events in Neo4j', async () => {
      const counts = await countEvents(driver, ids).catch(() => new Map<string, number>());
      return counts.size === 300 && [...counts.values()].every((n) => n === 1);
    }, 120_000, 1000);
    const counts = await countEvents(driver, ids);
    for (const [id, n] of counts) assert.equal(n, 1, `event ${id}`);
    await waitUntil('the queue to drain', async () => {
      const q = await queueDepth(status, vhost);
      return q.ready + q.unacked === 0;
    }, 30_000, 1000);
  });
});
