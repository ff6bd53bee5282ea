import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GraphRepository } from '@not/graph';
import type { MeshStatus } from '@not/mesh';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

describe('GraphRepository against a real Neo4j', () => {
  let status: MeshStatus;
  let graph: GraphRepository;

  before(async () => {
    status = await testStatus();
    graph = new GraphRepository({ url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' });
    await graph.verify();
    await graph.ensureSchema();
  });
  after(async () => graph?.onModuleDestroy());

  it('creates the uniqueness constraints it relies on', async () => {
    const rows = await graph.read<{ name: string }>('SHOW CONSTRAINTS YIELD name RETURN name');
    const names = rows.map((r) => r.name);
    for (const n of ['event_id', 'commit_key', 'artifact_key', 'release_key']) assert.ok(names.includes(n), `missing ${n}`);
  });

  it('writes the same event many times as one node', async () => {
    const e = traceEvent();
    const first = await graph.writeEvents([e, e]);
    const again = await graph.writeEvents([e]);
    assert.equal(first.created, 1);
    assert.equal(again.created, 0);
    assert.equal(again.duplicates, 1);
    const rows = await graph.read<{ n: number }>('MATCH (x:Event {id: $id}) RETURN count(x) AS n', { id: e.id });
    assert.equal(rows[0]!.n, 1);
  });

  it('keeps a link whose target arrives later, and fills the placeholder in when it does', async () => {
    const target = traceEvent({ type: 'EiffelArtifactCreatedEvent', stage: 'artifact' });
    const source = traceEvent({ links: [{ type: 'CAUSE', target: target.id }] });
    await graph.writeEvents([source]);
    const rows = await graph.read<{ labels: string[] }>('MATCH (:Event {id: $s})-[:CAUSE]->(t:Event {id: $t}) RETURN labels(t) AS labels', {
      s: source.id,
      t: target.id,
    });
    assert.deepEqual(rows[0]!.labels.sort(), ['Event', 'Placeholder']);
    await graph.writeEvents([target]);
    const filled = await graph.read<{ labels: string[]; type: string }>(
      'MATCH (:Event {id: $s})-[:CAUSE]->(t:Event {id: $t}) RETURN labels(t) AS labels, t.type AS type',
      { s: source.id, t: target.id },
    );
    assert.deepEqual(filled[0]!.labels, ['Event']);
    assert.equal(filled[0]!.type, 'EiffelArtifactCreatedEvent');
  });

  it('keeps the first content when the same id arrives with different content, and reports the conflict', async () => {
    const e = traceEvent({ props: { name: 'first' } });
    await graph.writeEvents([e]);
    const second = await graph.writeEvents([{ ...e, props: { name: 'second' } }]);
    assert.deepEqual(second.conflicts, [e.id]);
    const rows = await graph.read<{ name: string }>('MATCH (x:Event {id: $id}) RETURN x.name AS name', { id: e.id });
    assert.equal(rows[0]!.name, 'first');
  });

  it('makes the same commit seen at two sites one entity node', async () => {
    const key = `git.example.com/acme/payments@${randomUUID().replace(/-/g, '')}00000000`;
    const commit = { label: 'Commit' as const, key };
    const a = traceEvent({ site: 'site-a', about: [{ entity: commit, role: 'built' }], entities: [{ ...commit, props: { sha: key.split('@')[1]! } }] });
    const b = traceEvent({ site: 'site-b', about: [{ entity: commit, role: 'tested' }], entities: [{ ...commit, props: { sha: key.split('@')[1]! } }] });
    await graph.writeEvents([a]);
    await graph.writeEvents([b]);
    const rows = await graph.read<{ n: number; sites: string[] }>(
      'MATCH (c:Commit {key: $key})<-[:ABOUT]-(e:Event) RETURN count(DISTINCT c) AS n, collect(e.site) AS sites',
      { key },
    );
    assert.equal(rows[0]!.n, 1);
    assert.deepEqual(rows[0]!.sites.sort(), ['site-a', 'site-b']);
  });

  it('writes the same batch from two writers at once as one graph', async () => {
    const events = Array.from({ length: 200 }, (_, i) => traceEvent({ links: i > 0 ? [{ type: 'CAUSE', target: 'shared-root-' + (i % 3) }] : [] }));
    const [x, y] = await Promise.all([graph.writeEvents(events), graph.writeEvents([...events].reverse())]);
    assert.equal(x.created + y.created, 200);
    const rows = await graph.read<{ n: number }>('UNWIND $ids AS id MATCH (e:Event {id: id}) RETURN count(e) AS n', { ids: events.map((e) => e.id) });
    assert.equal(rows[0]!.n, 200);
  });
});
