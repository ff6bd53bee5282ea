import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { IsolatedCentral } from '../support/central.js';
import { countEvents, neo4jDriver, referenceStream, testMesh, testStatus, waitUntil } from '../support/mesh.js';

describe('a Neo4j outage while events are being published', () => {
  let status: MeshStatus;
  let driver: Driver;
  let central: IsolatedCentral;
  // Fresh ids so that no other test has written them.
  const events = referenceStream()
    .slice(0, 300)
    .map((e) => ({ ...e, meta: { ...e.meta, id: randomUUID() } }));
  const ids = events.map((e) => e.meta.id);

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    central = await new IsolatedCentral(status).create();
    await central.startCorrelator(8950);
  });

  after(async () => {
    await central?.stop();
    await testMesh().startNeo4j();
    await driver?.close();
  });

  it('holds the events in the broker and writes every one exactly once when Neo4j is back', async () => {
    await central.publish(events.slice(0, 100));
    await waitUntil('the first 100 events in Neo4j', async () =>
      [...(await countEvents(driver, ids.slice(0, 100))).values()].every((n) => n === 1),
    );

    await testMesh().stopNeo4j();
    await central.publish(events.slice(100));
    // The correlator cannot write: the events wait in the broker, none is acked or lost.
    await waitUntil(
      'the correlator to hold the events',
      async () => {
        const q = await central.queue('not.ingest');
        return q.ready + q.unacked === 200;
      },
      30_000,
      1000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const held = await central.queue('not.ingest');
    assert.equal(held.ready + held.unacked, 200, 'all 200 events still in the broker while Neo4j is down');

    await testMesh().startNeo4j();
    await driver.close();
    driver = neo4jDriver(status);
    await waitUntil(
      'all 300 events in Neo4j',
      async () => {
        const counts = await countEvents(driver, ids).catch(() => new Map<string, number>());
        return counts.size === 300 && [...counts.values()].every((n) => n === 1);
      },
      120_000,
      1000,
    );
    const counts = await countEvents(driver, ids);
    for (const [id, n] of counts) assert.equal(n, 1, `event ${id}`);
    await waitUntil(
      'the queue to drain',
      async () => {
        const q = await central.queue('not.ingest');
        return q.ready + q.unacked === 0;
      },
      30_000,
      1000,
    );
  });
});
