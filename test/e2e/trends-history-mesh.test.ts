import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GraphRepository, Journeys, WalkReads, type JourneyPassages } from '@not/graph';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { areaOf } from '../../apps/explorer/src/lead-time.service.js';
import { eiffelHistory, generateHistory, type Episode } from '../../apps/explorer/src/testing/trends-history.js';
import { passagesOf } from '../../apps/explorer/src/trends/trends.series.js';
import { countEvents, neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

// The trend evaluation (`npm run eval:trends`) publishes generated delivery histories through the mesh
// as Eiffel events and scores the detection on the journeys it reads back. This proves that path on a
// small history: two days of changes in two areas at both sites, with failed builds and tests (a
// failure shift at site-b) and one change stuck in test, published at their sites, come back from the
// journey model with exactly the passages and trials the generated milestones say — when each change
// entered and left each segment, where it stopped, at which site, which builds and tests failed.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('e2e: a generated delivery history through the mesh comes back from the journey model as generated', () => {
  let status: MeshStatus;
  let driver: Driver;
  let graph: GraphRepository;

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    graph = new GraphRepository({ url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' });
  });
  after(async () => {
    await driver?.close();
    await graph?.onModuleDestroy();
  });

  it('reads back every change with the generated passages and trials', async () => {
    const start = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
    const episodes: Episode[] = [
      { type: 'failure-shift', segment: 'build', dimension: 'site', group: 'site-b', start: start + DAY, end: start + 2 * DAY, size: 0.5 },
      { type: 'stuck', segment: 'test', dimension: 'area', group: 'ledger', start: start + DAY + 9 * HOUR, end: start + 2 * DAY, size: 0 },
    ];
    const { changes, stuck } = generateHistory({
      start,
      days: 2,
      seed: 7,
      areas: ['ledger', 'portal'],
      sites: ['site-a', 'site-b'],
      workRate: 1,
      episodes,
    });
    const h = eiffelHistory(`hist-${randomBytes(4).toString('hex')}`, changes);
    assert.ok(changes.length >= 20, `a history of some size (${changes.length} changes)`);
    const failed = changes.filter((c) => c.events.some((e) => e.outcome === 'failure')).length;
    assert.ok(failed > 0, 'with failed builds or tests');
    assert.ok(stuck.size === 1, 'and a stuck change');

    for (const site of ['site-a', 'site-b']) {
      const bodies = h.events.filter((e) => e.site === site).map((e) => Buffer.from(JSON.stringify(e.event)));
      assert.equal(await publishToSite(status, site, 'ci', bodies), bodies.length);
    }
    const ids = h.events.map((e) => e.event.meta.id);
    await waitUntil(
      'every event of the history in Neo4j',
      async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1),
      180_000,
      1000,
    );
    const journeys = new Journeys(graph, new WalkReads(graph), () => ({ events: 20_000, walkSteps: 40 }));
    assert.ok(await journeys.settled(120_000), 'the journey model takes the events in');

    const read = new Map<string, JourneyPassages>();
    const page = await journeys.changedSince(new Date(start - DAY).toISOString(), null, 100_000);
    for (const j of page.journeys) {
      const key = h.keys.get(j.key);
      if (key !== undefined) read.set(key, j);
    }
    assert.equal(read.size, changes.length, 'one journey per generated change');
    for (const c of changes) {
      const j = read.get(c.key)!;
      const got = passagesOf({ key: c.key, repository: c.repository, area: areaOf(h.areas, j.repository), events: j.events });
      assert.deepEqual(got, passagesOf(c), `${c.key} (${j.key}): passages and trials as generated`);
    }
    // The stuck change is still in test: its last passage has not ended.
    const s = passagesOf(changes.find((c) => c.key === [...stuck.values()][0])!).passages;
    assert.deepEqual(
      [s[s.length - 1]!.segment, s[s.length - 1]!.left],
      ['test', null],
      'the stuck change is in test with no end (generated so)',
    );
  });
});
