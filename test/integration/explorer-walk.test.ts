import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseMessage, type TraceEvent } from '@not/events';
import { EntityReads, GraphRepository, WalkReads, type EntityRow } from '@not/graph';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { WalkService, type WalkResult, type WalkSeed } from '../../apps/explorer/src/walk.service.js';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

/**
 * A walk for one origin (a trace, a release) takes each closure and the next step from the
 * entities it reaches in one round trip; a walk for many origins (lead time) does the same
 * work step by step. Both must meet exactly the same events and entities: each seed here is
 * walked alone and beside an unrelated seed, over two real Eiffel pipelines in Neo4j, with
 * events from tools that do not link (a push naming a work item, an artifact repository's
 * upload): an entity met through a link with more events about it, and a work item met
 * through a relation with nothing beyond it.
 */
describe('explorer walks: one origin and many origins meet the same graph', () => {
  let graph: GraphRepository;
  let entities: EntityReads;
  let walker: WalkService;
  const run = randomBytes(4).toString('hex');
  const pipelines: Pipeline[] = [eiffelPipeline(`w${run}a`, Date.UTC(2045, 0, 5, 9)), eiffelPipeline(`w${run}b`, Date.UTC(2045, 0, 6, 9))];

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    const events: TraceEvent[] = [];
    for (const p of pipelines) {
      for (const e of p.events) {
        const parsed = parseMessage(
          { body: Buffer.from(JSON.stringify(e.event)), headers: {}, routingKey: `site.site-${e.site}.ci.eiffel` },
          { eiffelSchema: 'warn' },
        );
        assert.ok(parsed.ok, `pipeline event ${e.event.meta.id} parses`);
        events.push(...parsed.events);
      }
    }
    for (const p of pipelines) {
      const commit = { label: 'Commit' as const, key: `${p.repository}@${p.commits.C1.sha}` };
      const workItem = { label: 'WorkItem' as const, key: `${p.product.toUpperCase()}-77` };
      const artifact = { label: 'Artifact' as const, key: p.artifacts.A1 };
      events.push(
        traceEvent({
          format: 'github',
          source: 'git',
          type: 'push',
          stage: 'commit',
          phase: 'created',
          time: new Date(p.base).toISOString(),
          about: [{ entity: commit, role: 'pushed' }],
          entities: [{ ...workItem, props: { title: 'pushed with the commit' } }],
          relations: [{ from: commit, type: 'REFERENCES', to: workItem }],
        }),
        traceEvent({
          format: 'nexus',
          source: 'repo',
          type: 'component',
          stage: 'publication',
          phase: 'finished',
          site: 'site-b',
          time: new Date(p.base + 86_400_000).toISOString(),
          about: [{ entity: artifact, role: 'published' }],
        }),
      );
    }
    // Entities met only through links: an artifact with an upload that links to nothing, and a
    // commit whose work item only a relation names.
    const k = { label: 'Commit' as const, key: `git.example.com/walk/${run}@${'c'.repeat(40)}` };
    const x = { label: 'Artifact' as const, key: `sha256:${run.repeat(8)}` };
    const r = { label: 'Release' as const, key: `walk-${run}@1` };
    const time = new Date(Date.UTC(2045, 0, 7, 9)).toISOString();
    events.push(
      traceEvent({
        id: `${run}-release`,
        stage: 'release',
        time,
        about: [{ entity: r, role: 'released' }],
        entities: [{ ...r, props: {} }],
        links: [{ type: 'ELEMENT', target: `${run}-artifact` }],
      }),
      traceEvent({
        id: `${run}-artifact`,
        stage: 'artifact',
        time,
        about: [{ entity: x, role: 'created' }],
        entities: [{ ...x, props: {} }],
        links: [{ type: 'CAUSE', target: `${run}-commit` }],
      }),
      traceEvent({
        id: `${run}-commit`,
        stage: 'commit',
        time,
        about: [{ entity: k, role: 'created' }],
        entities: [
          { ...k, props: {} },
          { label: 'WorkItem', key: `WALK${run.toUpperCase()}-1`, props: {} },
        ],
        relations: [{ from: k, type: 'REFERENCES', to: { label: 'WorkItem', key: `WALK${run.toUpperCase()}-1` } }],
      }),
      traceEvent({ id: `${run}-upload`, format: 'nexus', stage: 'publication', time, about: [{ entity: x, role: 'published' }] }),
    );
    await graph.writeEvents(events);
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: ['walk-test-token-0000'] } });
    entities = new EntityReads(graph);
    walker = new WalkService(new WalkReads(graph), config);
  });
  after(async () => {
    await graph?.onModuleDestroy();
  });

  const one = async (label: 'Commit' | 'Release' | 'Artifact' | 'WorkItem', key: string): Promise<EntityRow> => {
    const found = await entities.entity(label, key);
    assert.equal(found.length, 1, `${label} ${key} is in the graph`);
    return found[0]!;
  };
  const summary = (r: WalkResult): { events: string[]; entities: string[]; truncated: boolean } => ({
    events: [...r.events].sort(),
    entities: [...r.entities.values()].map((x) => `${x.label}|${x.key}`).sort(),
    truncated: r.truncated,
  });
  /** The seed walked alone, and walked beside another pipeline's seed: the same answer for it. */
  const same = async (seed: WalkSeed, beside: WalkSeed, direction: 'up' | 'down'): Promise<ReturnType<typeof summary>> => {
    const alone = summary((await walker.walk([seed], direction)).get(seed.origin)!);
    const shared = summary((await walker.walk([seed, beside], direction)).get(seed.origin)!);
    assert.deepEqual(alone, shared);
    return alone;
  };

  it('downstream from a commit: the same journey, through build, test, artifact and release', async () => {
    const [p, q] = pipelines as [Pipeline, Pipeline];
    for (const c of ['C1', 'C2', 'C3', 'C4', 'C5'] as const) {
      const commit = await one('Commit', `${p.repository}@${p.commits[c].sha}`);
      const other = await one('Commit', `${q.repository}@${q.commits[c].sha}`);
      const walked = await same({ origin: 'x', entities: [commit] }, { origin: 'y', entities: [other] }, 'down');
      for (const id of p.commits[c].journey) assert.ok(walked.events.includes(id), `${c}'s journey holds ${id}`);
      if (c === 'C1') {
        const published = await graph.read<{ id: string }>(
          `MATCH (:Artifact {key: $key})<-[:ABOUT]-(e:Event {type: 'component'}) RETURN e.id AS id`,
          { key: p.artifacts.A1 },
        );
        assert.equal(published.length, 1);
        assert.ok(walked.events.includes(published[0]!.id), "C1's journey holds the upload of its artifact, which links to nothing");
      }
    }
  });

  it('upstream through entities met only over links: their other events, and what their relations name', async () => {
    const release = await one('Release', `walk-${run}@1`);
    const [p] = pipelines as [Pipeline];
    const other = await one('Release', `${p.product}@1.0`);
    const walked = await same({ origin: 'x', entities: [release] }, { origin: 'y', entities: [other] }, 'up');
    assert.deepEqual(walked.events, [`${run}-artifact`, `${run}-commit`, `${run}-release`, `${run}-upload`].sort());
    assert.deepEqual(walked.entities, [
      `Artifact|sha256:${run.repeat(8)}`,
      `Commit|git.example.com/walk/${run}@${'c'.repeat(40)}`,
      `Release|walk-${run}@1`,
      `WorkItem|WALK${run.toUpperCase()}-1`,
    ]);
  });

  it('upstream from a release: the same contents, through the composition and a relation to a work item', async () => {
    const [p, q] = pipelines as [Pipeline, Pipeline];
    const release = await one('Release', `${p.product}@1.0`);
    const other = await one('Release', `${q.product}@1.0`);
    const walked = await same({ origin: 'x', entities: [release] }, { origin: 'y', entities: [other] }, 'up');
    assert.ok(walked.entities.includes(`WorkItem|${p.product.toUpperCase()}-77`), 'the work item only a relation of C1 names');
  });

  it('upstream from a release: the same contents, through the composition', async () => {
    const [p, q] = pipelines as [Pipeline, Pipeline];
    const release = await one('Release', `${p.product}@1.1`);
    const other = await one('Release', `${q.product}@1.1`);
    const walked = await same({ origin: 'x', entities: [release] }, { origin: 'y', entities: [other] }, 'up');
    const commits = walked.entities.filter((k) => k.startsWith('Commit|'));
    assert.deepEqual(commits, [p.commits.C2.sha, p.commits.C4.sha].map((s) => `Commit|${p.repository}@${s}`).sort());
    assert.ok(walked.entities.includes(`WorkItem|${p.commits.C4.workItem}`), 'the work item of the library commit');
  });

  it('upstream from an artifact and from an event, and downstream from a work item', async () => {
    const [p, q] = pipelines as [Pipeline, Pipeline];
    const a3 = await one('Artifact', p.artifacts.A3);
    const b3 = await one('Artifact', q.artifacts.A3);
    await same({ origin: 'x', entities: [a3] }, { origin: 'y', entities: [b3] }, 'up');
    await same({ origin: 'x', events: [p.releaseEvents[2]!] }, { origin: 'y', events: [q.releaseEvents[2]!] }, 'up');
    const wi = await one('WorkItem', p.commits.C2.workItem);
    const wj = await one('WorkItem', q.commits.C2.workItem);
    await same({ origin: 'x', entities: [wi] }, { origin: 'y', entities: [wj] }, 'down');
  });
});
