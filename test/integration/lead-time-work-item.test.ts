import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseMessage, type TraceEvent } from '@not/events';
import { DeliveryReads, EventSearchReads, GraphRepository, Journeys, WalkReads } from '@not/graph';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { LeadTimeService } from '../../apps/explorer/src/lead-time.service.js';
import { eiffelPipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { WalkService } from '../../apps/explorer/src/walk.service.js';
import { testStatus } from '../support/mesh.js';

const fixture = (file: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../../libs/events/fixtures/jira/${file}`, import.meta.url), 'utf8')) as Record<string, any>;

/**
 * Lead time from the ticket, against a real Neo4j: a generated Eiffel pipeline whose commits are made on
 * branches named after their work items (`feature/<key>`), and real Jira webhook bodies
 * (libs/events/fixtures/jira) re-keyed to C1's work item, created two days and started one day before
 * C1's first commit. The expected figures are the published times' differences.
 */
describe('lead time starting at the work item', () => {
  let graph: GraphRepository;
  let leadTimes: LeadTimeService;
  const H = 3_600_000;
  const base = Date.UTC(2047, 2, 1, 9);
  const p = eiffelPipeline(`w${randomBytes(4).toString('hex')}`, base);
  const c1 = p.commits.C1;
  const created = c1.times.commit - 48 * H;
  const started = c1.times.commit - 24 * H;

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: ['work-item-token-0000'] } });
    const walkReads = new WalkReads(graph);
    const journeys = new Journeys(graph, walkReads, () => config.limits);
    leadTimes = new LeadTimeService(
      new EventSearchReads(graph),
      new DeliveryReads(graph),
      new WalkService(walkReads, config),
      journeys,
      config,
    );
    const parse = (routingKey: string, body: unknown): TraceEvent[] => {
      const r = parseMessage({ body: Buffer.from(JSON.stringify(body)), headers: {}, routingKey }, { eiffelSchema: 'warn' });
      assert.ok(r.ok, `parses: ${r.ok ? '' : r.rejection.reason}`);
      return [...r.events];
    };
    const rekey = (b: Record<string, any>, ts: number) => {
      b['issue'].key = c1.workItem;
      b['issue'].id = String(ts);
      b['timestamp'] = ts;
      return b;
    };
    const events = [
      ...p.events.flatMap((e) => parse(`site.site-${e.site}.ci.eiffel`, e.event)),
      ...parse('site.site-a.tracker.jira', rekey(fixture('issue-created.json'), created)),
      ...parse('site.site-a.tracker.jira', rekey(fixture('derived-issue-transitioned-in-progress.json'), started)),
    ];
    await graph.writeEvents(events);
    await journeys.drain();
    // The mesh's correlator runs the same journey step on these events: wait until neither has any left.
    assert.ok(await journeys.settled(60_000), 'the journey model took in every event written');
  });
  after(async () => graph?.onModuleDestroy());

  const window = { from: new Date(base - 86_400_000).toISOString(), to: new Date(base + 86_400_000).toISOString(), until: 'release' };
  const mine = async (start: 'commit' | 'work-item-created' | 'work-item-started') => {
    const r = await leadTimes.leadTime({ ...window, groupBy: 'stage', start });
    assert.equal(r.start, start);
    return (key: string) => r.perChange.find((c) => c.commit === `${p.repository}@${key}`);
  };

  it('starts at the commit by default, and at the ticket when asked, adding the ticket time to the total only', async () => {
    const byCommit = (await mine('commit'))(c1.sha)!;
    assert.ok(byCommit, 'C1 reached its release in the window');
    assert.deepEqual([byCommit.start, byCommit.workItem, byCommit.ticket], [new Date(c1.times.commit).toISOString(), null, 0]);
    assert.equal(byCommit.total, (c1.times.release! - c1.times.commit) / 1000);

    const fromCreated = (await mine('work-item-created'))(c1.sha)!;
    assert.deepEqual(
      [fromCreated.start, fromCreated.workItem, fromCreated.ticket],
      [new Date(created).toISOString(), c1.workItem, 48 * 3600],
    );
    assert.equal(fromCreated.total, (c1.times.release! - created) / 1000);
    assert.deepEqual(fromCreated.segments, byCommit.segments, 'the segments are the same: the ticket time is before them');

    const fromStarted = (await mine('work-item-started'))(c1.sha)!;
    assert.deepEqual([fromStarted.start, fromStarted.ticket], [new Date(started).toISOString(), 24 * 3600]);
  });

  it('starts a change whose work item has no events of its own at its commit', async () => {
    const c2 = (await mine('work-item-created'))(p.commits.C2.sha)!;
    assert.ok(c2, 'C2 reached its release in the window');
    assert.deepEqual([c2.start, c2.workItem, c2.ticket], [new Date(p.commits.C2.times.commit).toISOString(), null, 0]);
  });
});
