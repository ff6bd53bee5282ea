import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventNews, EventReads, EventRow, EventSearchReads, Journeys, WalkResult } from '@not/graph';
import { explorerConfigSchema } from './explorer.config.js';
import type { GraphChange } from './api.schemas.js';
import { StreamService } from './stream.service.js';
import type { WalkService } from './walk.service.js';

const ev = (id: string, stage: string): EventRow =>
  ({ id, type: 'T', stage, phase: null, outcome: null, time: '2030-01-01T00:00:00.000Z', site: 'site-a' }) as unknown as EventRow;

/** A stream over a graph held in memory: what arrived, what the journey model says, what a walk finds. */
function harness(waitMs: number) {
  const arrived: EventRow[] = [];
  const news = new Map<string, EventNews>();
  const walked: string[][] = [];
  const events = {
    events: async (ids: readonly string[]) => arrived.filter((e) => ids.includes(e.id)),
  } as unknown as EventReads;
  const search = {
    idsIngestedWithin: async () => arrived.map((e) => e.id).reverse(),
  } as unknown as EventSearchReads;
  const journeys = {
    news: async (ids: readonly string[]) => new Map(ids.filter((id) => news.has(id)).map((id) => [id, news.get(id)!])),
  } as unknown as Journeys;
  const walker = {
    walk: async (seeds: Array<{ origin: string }>) => {
      walked.push(seeds.map((s) => s.origin));
      const entities = new Map([['w', { eid: 'w', label: 'WorkItem', key: 'PAY-9', props: {} }]]);
      return new Map(seeds.map((s) => [s.origin, { events: new Set(), entities, truncated: false } as WalkResult]));
    },
  } as unknown as WalkService;
  const config = explorerConfigSchema.parse({
    neo4j: { url: 'bolt://x', user: 'u', password: 'p' },
    http: { port: 1 },
    auth: { tokens: ['token-0123456789abcdef'] },
    journeys: { waitMs },
  });
  const stream = new StreamService(events, search, walker, journeys, config);
  const got: GraphChange[] = [];
  const sub = stream.subscribe({}).subscribe((m) => got.push(m.data));
  return { arrived, news, walked, stream, got, done: () => sub.unsubscribe() };
}

const settled = (commits: string[], reached: EventNews['reached'] = []): EventNews => ({
  settled: true,
  commits,
  workItems: ['PAY-1'],
  releases: [],
  reached,
});

describe('the live stream', () => {
  it('says what an event belongs to from the journey model once the journey step has taken it in', async () => {
    const h = harness(60_000);
    await h.stream.poll(); // the first poll learns what is there
    h.arrived.push(ev('b1', 'build'));
    h.news.set('b1', { ...settled(['r@c1']), settled: false });
    await h.stream.poll();
    assert.equal(h.got.length, 0, 'not yet: its journey is being recomputed');
    h.news.set('b1', settled(['r@c1'], [{ commit: 'r@c1', stage: 'build' }]));
    await h.stream.poll();
    assert.equal(h.got.length, 1);
    assert.deepEqual(
      { commits: h.got[0]!.commits, workItems: h.got[0]!.workItems, reached: h.got[0]!.reached },
      { commits: ['r@c1'], workItems: ['PAY-1'], reached: [{ commit: 'r@c1', stage: 'build' }] },
    );
    assert.deepEqual(h.walked, [], 'no walk for an event the model knows');
    await h.stream.poll();
    assert.equal(h.got.length, 1, 'said once');
    h.done();
  });

  it('walks upstream from an event no journey passes, and stops waiting after journeys.waitMs', async () => {
    const h = harness(0);
    await h.stream.poll();
    h.arrived.push(ev('w1', 'work-item'), ev('b2', 'build'));
    h.news.set('w1', settled([]));
    h.news.set('b2', { ...settled(['r@c2']), settled: false });
    await h.stream.poll();
    assert.deepEqual(
      h.got.map((c) => [c.event.id, c.commits, c.workItems]),
      [
        ['w1', [], ['PAY-9']],
        ['b2', ['r@c2'], ['PAY-1']],
      ],
    );
    assert.deepEqual(h.walked, [['w1']]);
    h.done();
  });
});
