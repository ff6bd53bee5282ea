import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GraphRepository } from '@not/graph';
import type { MeshStatus } from '@not/mesh';
import neo4j from 'neo4j-driver';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

/**
 * The `neo4j://` scheme (client-side routing, as against a cluster or Aura) against the mesh's single
 * Neo4j: the server answers the routing table with itself in every role, so the same code runs on both.
 */
describe('GraphRepository over neo4j:// routing', () => {
  let status: MeshStatus;
  let graph: GraphRepository;
  let routingUrl: string;

  before(async () => {
    status = await testStatus();
    routingUrl = status.neo4j.bolt.replace(/^bolt:/, 'neo4j:');
    graph = new GraphRepository({ url: routingUrl, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' });
    await graph.verify();
    await graph.ensureSchema();
  });
  after(async () => graph?.onModuleDestroy());

  it('gets a routing table from the server, with a writer and readers', async () => {
    const driver = neo4j.driver(routingUrl, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
    try {
      await driver.verifyConnectivity({ database: 'neo4j' });
      // A write and a read through the routing driver, each in its own access mode.
      const w = await driver.executeQuery('RETURN 1 AS n', {}, { database: 'neo4j', routing: neo4j.routing.WRITE });
      const r = await driver.executeQuery('RETURN 2 AS n', {}, { database: 'neo4j', routing: neo4j.routing.READ });
      assert.equal(w.records[0]!.get('n').toNumber(), 1);
      assert.equal(r.records[0]!.get('n').toNumber(), 2);
    } finally {
      await driver.close();
    }
  });

  it('reads its own writes at once (one bookmark chain per process)', async () => {
    for (let i = 0; i < 5; i++) {
      const e = traceEvent();
      const res = await graph.writeEvents([e]);
      assert.equal(res.created, 1);
      const rows = await graph.read<{ n: number }>('MATCH (x:Event {id: $id}) RETURN count(x) AS n', { id: e.id });
      assert.equal(rows[0]!.n, 1, 'the read right after the write sees it');
    }
  });

  it('sends reads in read access mode: a write through read() is refused by the server', async () => {
    await assert.rejects(graph.read('CREATE (x:RoutingProbe {at: timestamp()}) RETURN x'), (err: Error & { code?: string }) =>
      /AccessMode|read access mode|not allowed/i.test(`${err.code} ${err.message}`),
    );
    const left = await graph.read<{ n: number }>('MATCH (x:RoutingProbe) RETURN count(x) AS n');
    assert.equal(left[0]!.n, 0, 'nothing was written');
  });
});
