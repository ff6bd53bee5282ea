// Runs after shovel-to-graph (file order): it republishes reference ids from both sites.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { neo4jDriver, referenceStream, testStatus, waitUntil } from '../support/mesh.js';

/** A deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  let a = seed;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('the Eiffel reference stream across two sites, shuffled, with redeliveries', () => {
  let status: MeshStatus;
  let driver: Driver;
  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
  });
  after(async () => driver?.close());

  it('ends as one event per id, one relationship per link and no placeholder left', async () => {
    const stream = referenceStream() as unknown as Array<{ meta: { id: string }; links: Array<{ type: string; target: string }> }>;
    const ids = stream.map((e) => e.meta.id);
    const order = shuffled(stream, 42);
    const twice = order.filter((_, i) => i % 10 === 0);
    const all = [...order, ...twice];
    const half = Math.floor(all.length / 2);
    const toBody = (e: object) => Buffer.from(JSON.stringify(e));
    await Promise.all([
      publishToSite(status, 'site-a', 'ci', all.slice(0, half).map(toBody)),
      publishToSite(status, 'site-b', 'ci', all.slice(half).map(toBody)),
    ]);
    const q = (query: string) => driver.executeQuery(query, { ids }, { database: 'neo4j' });
    await waitUntil(
      `all ${ids.length} reference events in Neo4j`,
      async () =>
        (await q('UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN count(e) AS n')).records[0]!.get('n') ===
        ids.length,
      180_000,
      2000,
    );
    const perId = await q('UNWIND $ids AS id MATCH (e:Event {id: id}) WITH id, count(e) AS n WHERE n <> 1 RETURN count(id) AS bad');
    assert.equal(perId.records[0]!.get('bad'), 0, 'exactly one node per id');
    const placeholders = await q('UNWIND $ids AS id MATCH (e:Event:Placeholder {id: id}) RETURN count(e) AS n');
    assert.equal(placeholders.records[0]!.get('n'), 0, 'no placeholder left among the stream');
    const expected = new Set(stream.flatMap((e) => e.links.map((l) => `${e.meta.id} ${l.type} ${l.target}`)));
    const rels = await q('UNWIND $ids AS id MATCH (e:Event {id: id})-[r]->(t:Event) RETURN e.id AS s, type(r) AS type, t.id AS t');
    const actual = rels.records.map((r) => `${r.get('s')} ${r.get('type')} ${r.get('t')}`);
    assert.equal(actual.length, new Set(actual).size, 'no duplicate relationship');
    assert.deepEqual(new Set(actual), expected, 'one relationship per link');
  });
});
