import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import {
  countEvents,
  findInArchive,
  managementGet,
  metricSum,
  neo4jDriver,
  referenceStream,
  testStatus,
  waitUntil,
} from '../support/mesh.js';

describe('events travel site → shovel → central → correlator → Neo4j', () => {
  let status: MeshStatus;
  let driver: Driver;
  const stream = referenceStream();
  const atA = stream.slice(0, 150);
  const atB = stream.slice(150, 300);
  const ids = [...atA, ...atB].map((e) => e.meta.id);

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
  });
  after(async () => driver?.close());

  it('finds each event published at site A and at site B exactly once in Neo4j', async () => {
    await publishToSite(
      status,
      'site-a',
      'ci',
      atA.map((e) => Buffer.from(JSON.stringify(e))),
    );
    await publishToSite(
      status,
      'site-b',
      'ci',
      atB.map((e) => Buffer.from(JSON.stringify(e))),
    );
    await waitUntil('all 300 events in Neo4j', async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1), 120_000);
    const counts = await countEvents(driver, ids);
    assert.equal(counts.size, 300);
    for (const [id, n] of counts) assert.equal(n, 1, `event ${id}`);
    const sites = await driver.executeQuery(
      'UNWIND $ids AS id MATCH (e:Event {id: id}) RETURN e.site AS site, count(*) AS n ORDER BY site',
      { ids },
      { database: 'neo4j' },
    );
    assert.deepEqual(
      sites.records.map((r) => [r.get('site'), r.get('n')]),
      [
        ['site-a', 150],
        ['site-b', 150],
      ],
    );
  });

  it('came through the site shovel: the central copy has the site routing key and the shovel headers', async () => {
    const shovels = await managementGet<Array<{ name: string; state: string }>>(
      { ...status, central: { ...status.central, management: status.sites[0]!.management } },
      '/api/shovels/%2F',
    );
    assert.ok(
      shovels.some((s) => s.name === 'not-relay-site-a-ci' && s.state === 'running'),
      JSON.stringify(shovels),
    );
    const wanted = atA[0]!.meta.id;
    const found = await findInArchive(status.central.amqp, (m) => m.body.includes(wanted) && JSON.parse(m.body).meta?.id === wanted);
    assert.equal(found.routingKey, 'site.site-a.ci.eiffel');
    // RabbitMQ 3.10 keeps only the timestamp when both forward and timestamp headers are asked for.
    assert.ok(
      found.headers['x-shovelled'] ?? found.headers['x-shovelled-timestamp'],
      `no shovel header: ${JSON.stringify(Object.keys(found.headers))}`,
    );
    assert.equal(JSON.parse(found.body).meta.id, wanted, 'the payload arrives byte for byte');
  });

  it('keeps one node per event id when the same file is published twice', async () => {
    const labels = { site: 'site-a', result: 'accepted' };
    const consumed = await metricSum(status.correlator.url, 'traces_correlator_events_total', labels);
    const before = await driver.executeQuery('MATCH (e:Event) RETURN count(e) AS n', {}, { database: 'neo4j' });
    await publishToSite(
      status,
      'site-a',
      'ci',
      atA.map((e) => Buffer.from(JSON.stringify(e))),
    );
    await waitUntil(
      'the correlator to commit the second delivery',
      async () => (await metricSum(status.correlator.url, 'traces_correlator_events_total', labels)) >= consumed + atA.length,
      60_000,
    );
    const after = await driver.executeQuery('MATCH (e:Event) RETURN count(e) AS n', {}, { database: 'neo4j' });
    assert.equal(after.records[0]!.get('n'), before.records[0]!.get('n'));
    const counts = await countEvents(
      driver,
      atA.map((e) => e.meta.id),
    );
    for (const [id, n] of counts) assert.equal(n, 1, `event ${id}`);
    const duplicates = await metricSum(status.correlator.url, 'traces_correlator_duplicates_total');
    assert.ok(duplicates >= atA.length, `duplicates counted: ${duplicates}`);
  });
});
