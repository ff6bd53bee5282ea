import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseMessage, type TraceEvent } from '@not/events';
import { EntityReads, GraphRepository, Journeys, WalkReads } from '@not/graph';
import { Registry } from 'prom-client';
import type { MeshStatus } from '@not/mesh';
import { traceEvent } from '../support/factories.js';
import { neo4jDriver, testStatus } from '../support/mesh.js';

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

  it('labels each query with the function that sent it, also when the text was sent before', async () => {
    const registry = new Registry();
    const timedGraph = new GraphRepository({
      url: status.neo4j.bolt,
      user: status.neo4j.user,
      password: status.neo4j.password,
      database: 'neo4j',
    });
    timedGraph.instrument(registry, 'test');
    try {
      const entities = new EntityReads(timedGraph);
      const journeys = new Journeys(timedGraph, new WalkReads(timedGraph), () => ({ events: 100, walkSteps: 5 }));
      for (let i = 0; i < 3; i++) {
        await entities.commitsBySha([{ prefix: '0000000000ff' }], 1);
        await journeys.byKey('git.example.com/none@0000000000ff');
      }
      const counts = new Map(
        (await registry.getSingleMetric('traces_test_neo4j_duration_seconds')!.get()).values
          .filter((v) => (v as { metricName?: string }).metricName === 'traces_test_neo4j_duration_seconds_count')
          .map((v) => [v.labels['query'], v.value]),
      );
      assert.deepEqual(Object.fromEntries(counts), { 'EntityReads.commitsBySha': 3, 'Journeys.byKey': 3 });
    } finally {
      await timedGraph.onModuleDestroy();
    }
  });

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
    // No longer a placeholder; JourneyPending is the journey read model's transient mark (docs/graph-model.md).
    assert.deepEqual(
      filled[0]!.labels.filter((l) => l !== 'JourneyPending'),
      ['Event'],
    );
    assert.equal(filled[0]!.type, 'EiffelArtifactCreatedEvent');
  });

  it('writes a redelivered batch as nothing new, and the new events beside it in full', async () => {
    // A change's commit, the build event about it, and a link between them: all a redelivery brings again.
    const sha = randomUUID().replace(/-/g, '').slice(0, 20);
    const repo = `git.example.com/redelivery/${sha.slice(0, 6)}`;
    const commit = { label: 'Commit' as const, key: `${repo}@${sha}`, props: { sha, repository: repo } };
    const created = traceEvent({
      type: 'EiffelSourceChangeCreatedEvent',
      stage: 'commit',
      entities: [commit],
      about: [{ entity: commit, role: 'created' }],
    });
    const built = traceEvent({ links: [{ type: 'CAUSE', target: created.id }], about: [{ entity: commit, role: 'built' }] });
    const count = async (): Promise<{ nodes: number; rels: number }> => {
      const [r] = await graph.read<{ nodes: number; rels: number }>(
        `MATCH (c:Commit {key: $key}) RETURN COUNT { (c)<-[:ABOUT]-() } + 1 AS nodes,
                COUNT { (:Event {id: $b})-[:CAUSE]->(:Event {id: $c}) } + COUNT { (c)<-[]-() } + COUNT { (c)-[]->() } AS rels`,
        { key: commit.key, b: built.id, c: created.id },
      );
      return r!;
    };
    const first = await graph.writeEvents([created, built]);
    assert.equal(first.created, 2);
    const before = await count();
    // ABOUT from both events, the commit itself, the CAUSE link.
    assert.deepEqual(before, { nodes: 3, rels: 1 + 2 });
    const again = await graph.writeEvents([built, created]);
    assert.deepEqual(
      { created: again.created, duplicates: again.duplicates, conflicts: again.conflicts },
      { created: 0, duplicates: 2, conflicts: [] },
    );
    assert.deepEqual(await count(), before);
    // A later event in a batch of redeliveries is written with its links and what it is about.
    const tested = traceEvent({
      type: 'EiffelTestSuiteStartedEvent',
      stage: 'test',
      links: [{ type: 'CAUSE', target: built.id }],
      about: [{ entity: commit, role: 'tested' }],
    });
    const mixed = await graph.writeEvents([created, tested, built]);
    assert.equal(mixed.created, 1);
    const [r] = await graph.read<{ linked: number; about: number }>(
      `MATCH (t:Event {id: $t}) RETURN COUNT { (t)-[:CAUSE]->(:Event {id: $b}) } AS linked, COUNT { (t)-[:ABOUT {role: 'tested'}]->(:Commit {key: $key}) } AS about`,
      { t: tested.id, b: built.id, key: commit.key },
    );
    assert.deepEqual(r, { linked: 1, about: 1 });
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
    const a = traceEvent({
      site: 'site-a',
      about: [{ entity: commit, role: 'built' }],
      entities: [{ ...commit, props: { sha: key.split('@')[1]! } }],
    });
    const b = traceEvent({
      site: 'site-b',
      about: [{ entity: commit, role: 'tested' }],
      entities: [{ ...commit, props: { sha: key.split('@')[1]! } }],
    });
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
    const events = Array.from({ length: 200 }, (_, i) =>
      traceEvent({ links: i > 0 ? [{ type: 'CAUSE', target: 'shared-root-' + (i % 3) }] : [] }),
    );
    const [x, y] = await Promise.all([graph.writeEvents(events), graph.writeEvents([...events].reverse())]);
    assert.equal(x.created + y.created, 200);
    const rows = await graph.read<{ n: number }>('UNWIND $ids AS id MATCH (e:Event {id: id}) RETURN count(e) AS n', {
      ids: events.map((e) => e.id),
    });
    assert.equal(rows[0]!.n, 200);
  });

  describe('an entity known by several keys is one node, whatever order its keys arrive in', () => {
    /** Three events about one artifact: one knows only its purl, one only its digest, one both (and its path). */
    function artifactEvents(tag: string) {
      const sha = `sha256:${tag.padEnd(64, '0')}`;
      const purl = `purl:pkg:maven/com.acme/app-${tag}@1.4.128`;
      const path = `path:libs-release/com/acme/app-${tag}/1.4.128/app-${tag}-1.4.128.jar`;
      const build = `ci.example.com/jenkins/acme/app-${tag}#128`;
      const published = traceEvent({
        type: 'nexus.component.created',
        stage: 'publication',
        site: 'site-a',
        about: [{ entity: { label: 'Artifact', key: purl }, role: 'created' }],
        entities: [
          { label: 'Artifact', key: purl, props: { repository: 'maven-releases' } },
          { label: 'Build', key: build, props: {} },
        ],
        relations: [{ from: { label: 'Build', key: build }, type: 'PRODUCED', to: { label: 'Artifact', key: purl } }],
      });
      const deployed = traceEvent({
        type: 'dev.cdevents.service.deployed.0.2.0',
        stage: 'deployment',
        site: 'site-b',
        about: [{ entity: { label: 'Artifact', key: sha }, role: 'deployed' }],
        entities: [
          { label: 'Artifact', key: sha, props: {} },
          { label: 'Environment', key: `prod-${tag}`, props: {} },
        ],
        relations: [{ from: { label: 'Artifact', key: sha }, type: 'DEPLOYED_TO', to: { label: 'Environment', key: `prod-${tag}` } }],
      });
      const copied = traceEvent({
        type: 'artifact.copied',
        stage: 'promotion',
        site: 'site-b',
        about: [{ entity: { label: 'Artifact', key: sha }, role: 'copied' }],
        entities: [{ label: 'Artifact', key: sha, props: { size: 3 }, aliases: [purl, path] }],
      });
      return { sha, purl, path, build, events: [published, deployed, copied] };
    }

    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      it(`in the order ${order.join(', ')}, one batch each`, async () => {
        const tag = randomUUID().replace(/-/g, '').slice(0, 12);
        const a = artifactEvents(tag);
        for (const i of order) await graph.writeEvents([a.events[i]!]);
        const rows = await graph.read<{
          n: number;
          key: string;
          aliases: string[];
          about: string[];
          built: string[];
          envs: string[];
          size: number;
          repository: string;
        }>(
          `MATCH (:Alias {id: 'Artifact|' + $purl})-[:ALIAS_OF]->(x:Artifact)
           RETURN count(x) AS n, x.key AS key, x.aliases AS aliases, x.size AS size, x.repository AS repository,
                  [(e:Event)-[:ABOUT]->(x) | e.id] AS about,
                  [(b:Build)-[:PRODUCED]->(x) | b.key] AS built,
                  [(x)-[:DEPLOYED_TO]->(v:Environment) | v.key] AS envs`,
          { purl: a.purl },
        );
        assert.equal(rows.length, 1);
        const x = rows[0]!;
        assert.equal(x.key, a.sha);
        assert.deepEqual([...x.aliases].sort(), [a.path, a.purl].sort());
        assert.deepEqual([...x.about].sort(), a.events.map((e) => e.id).sort());
        assert.deepEqual(x.built, [a.build]);
        assert.deepEqual(x.envs, [`prod-${tag}`]);
        assert.equal(x.size, 3);
        assert.equal(x.repository, 'maven-releases');
        const nodes = await graph.read<{ n: number }>(
          'MATCH (x:Artifact) WHERE x.key IN $keys OR any(k IN $keys WHERE k IN x.aliases) RETURN count(x) AS n',
          { keys: [a.sha, a.purl, a.path] },
        );
        assert.equal(nodes[0]!.n, 1, 'exactly one Artifact node carries these keys');
        const aliases = await graph.read<{ id: string; n: number }>(
          'MATCH (al:Alias)-[:ALIAS_OF]->(t) WHERE al.id IN $ids RETURN al.id AS id, count(t) AS n',
          {
            ids: [a.sha, a.purl, a.path].map((k) => `Artifact|${k}`),
          },
        );
        assert.equal(aliases.length, 3);
        for (const al of aliases) assert.equal(al.n, 1, `${al.id} leads to one node`);
      });
    }

    it('finds entities written before alias nodes existed, once the schema step indexed their keys', async () => {
      const a = artifactEvents(randomUUID().replace(/-/g, '').slice(0, 12));
      // As an earlier version left it: keyed by purl, no alias nodes, no key rank.
      const driver = neo4jDriver(status);
      await driver.executeQuery('CREATE (:Artifact {key: $purl, aliases: [$path]})', { purl: a.purl, path: a.path }, { database: 'neo4j' });
      await driver.close();
      await graph.ensureSchema();
      await graph.writeEvents([a.events[2]!]);
      const rows = await graph.read<{ n: number; key: string }>(
        'MATCH (x:Artifact) WHERE x.key IN $keys OR any(k IN $keys WHERE k IN x.aliases) RETURN count(x) AS n, collect(x.key)[0] AS key',
        { keys: [a.sha, a.purl, a.path] },
      );
      assert.deepEqual(rows[0], { n: 1, key: a.sha });
    });

    it('an Eiffel activity and the Jenkins build that ran it are one build, whichever is reported first', async () => {
      const parse = (format: string, body: unknown): readonly TraceEvent[] => {
        const r = parseMessage({ body: Buffer.from(JSON.stringify(body)), headers: {}, routingKey: `site.site-b.ci.${format}` });
        assert.ok(r.ok, JSON.stringify(r));
        return r.events;
      };
      for (const jenkinsFirst of [true, false]) {
        const run = randomUUID();
        const number = Math.floor(Math.random() * 1e6);
        const url = `https://ci.site-b.example.com/job/acme/job/app/${number}/`;
        const triggered = parse('eiffel', {
          meta: { id: run, type: 'EiffelActivityTriggeredEvent', version: '4.0.0', time: 1_790_000_000_000 },
          data: { name: 'app build' },
          links: [],
        });
        const started = parse('eiffel', {
          meta: { id: randomUUID(), type: 'EiffelActivityStartedEvent', version: '4.0.0', time: 1_790_000_001_000 },
          data: { executionUri: url },
          links: [{ type: 'ACTIVITY_EXECUTION', target: run }],
        });
        const completed = parse('jenkins', {
          state: 'COMPLETED',
          url,
          build_job_name: 'acme/app',
          build_number: number,
          status: 'SUCCESS',
          parameters: [],
        });
        const batches = jenkinsFirst ? [completed, triggered, started] : [triggered, started, completed];
        for (const b of batches) await graph.writeEvents(b);
        const key = `ci.site-b.example.com/acme/app#${number}`;
        const rows = await graph.read<{ n: number; key: string; about: string[] }>(
          `MATCH (:Alias {id: 'Build|' + $key})-[:ALIAS_OF]->(b:Build) RETURN count(b) AS n, b.key AS key, [(e:Event)-[:ABOUT]->(b) | e.type] AS about`,
          { key },
        );
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.n, 1);
        assert.equal(rows[0]!.key, key, 'keyed by the CI job and number');
        assert.deepEqual([...new Set(rows[0]!.about)].sort(), [
          'EiffelActivityStartedEvent',
          'EiffelActivityTriggeredEvent',
          'jenkins.completed',
        ]);
      }
    });

    it('all three in one batch, and again from two writers at once', async () => {
      const a = artifactEvents(randomUUID().replace(/-/g, '').slice(0, 12));
      await Promise.all([graph.writeEvents(a.events), graph.writeEvents([...a.events].reverse())]);
      const rows = await graph.read<{ n: number; about: number }>(
        `MATCH (x:Artifact) WHERE x.key IN $keys OR any(k IN $keys WHERE k IN x.aliases) RETURN count(x) AS n, sum(COUNT { (:Event)-[:ABOUT]->(x) }) AS about`,
        { keys: [a.sha, a.purl, a.path] },
      );
      assert.equal(rows[0]!.n, 1);
      assert.equal(rows[0]!.about, 3);
    });
  });
});
