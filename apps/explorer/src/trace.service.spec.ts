import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntityReads, EventReads, Journeys, JourneyRecord, WalkReads, WalkResult } from '@not/graph';
import type { TraceDto } from './api.schemas.js';
import { TraceService } from './trace.service.js';
import type { WalkService } from './walk.service.js';

/**
 * A trace service over a graph held in memory, counting the walks it makes: the commit's journey has a
 * basis and may be marked dirty, as the correlator's journey step leaves it.
 */
function harness(traceCache: number) {
  const commit = { eid: 'c', label: 'Commit', key: 'git.example.com/a@abc123', props: {} };
  const model = { dirty: false, basis: 1 as number | null, present: true };
  let walks = 0;
  let records = 0;
  const entityReads = {
    // The lookup reads the journey's basis as the model holds it, like byKey.
    commitsBySha: async (asks: unknown[]) =>
      asks.map(() => [{ ...commit, journeyBasis: model.present && !model.dirty ? model.basis : null }]),
    workItemsOf: async () => [],
    relationsAmong: async () => [],
    mergesOf: async () => [],
  } as unknown as EntityReads;
  const eventReads = { details: async () => ({ events: [], about: [], links: [] }) } as unknown as EventReads;
  const walker = {
    walk: async () => {
      walks++;
      return new Map([['t', { events: new Set<string>(), entities: new Map([['c', commit]]), truncated: false } as WalkResult]]);
    },
  } as unknown as WalkService;
  const journeys = {
    byKey: async () =>
      ++records && model.present
        ? { journey: { events: [], stages: [], furthestStage: null } as unknown as JourneyRecord, dirty: model.dirty, basis: model.basis }
        : undefined,
  } as unknown as Journeys;
  const service = new TraceService(entityReads, eventReads, {} as WalkReads, walker, journeys, { journeys: { waitMs: 0, traceCache } });
  // What the API sends, read back.
  const trace = async (sha: string): Promise<TraceDto> => JSON.parse(await service.forCommitJson(sha)) as TraceDto;
  return { service, trace, model, walks: () => walks, records: () => records };
}

describe('commit traces kept per journey basis', () => {
  it('answers a trace again while its journey keeps its basis and is clean, with the subject asked for', async () => {
    const h = harness(10);
    const first = await h.trace('abc123');
    const again = await h.trace('abc1');
    assert.equal(h.walks(), 1, 'the second answer needs no walk');
    assert.equal(h.records(), 1, 'nor the journey record: the lookup told its basis');
    assert.equal(again.subject.query, 'abc1');
    assert.deepEqual({ ...again, subject: first.subject }, first);
  });

  it('serialises a kept trace once, and only the subject asked for again', async () => {
    const h = harness(10);
    const first = await h.service.forCommitJson('abc123');
    const stringify = JSON.stringify;
    let calls = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => (calls++, stringify(...args))) as typeof stringify;
    let again: string;
    try {
      again = await h.service.forCommitJson('abc1');
    } finally {
      JSON.stringify = stringify;
    }
    assert.equal(calls, 1, 'only the subject is serialised again');
    assert.equal(again, first.replace('"query":"abc123"', '"query":"abc1"'));
    assert.deepEqual(Object.keys(JSON.parse(again) as object)[0], 'subject');
    assert.equal(h.walks(), 1);
  });

  it('walks again once the journey is marked dirty or recomputed, or when there is no journey', async () => {
    const h = harness(10);
    await h.trace('abc123');
    h.model.dirty = true;
    await h.trace('abc123');
    assert.equal(h.walks(), 2, 'a dirty journey: an event joined it that the kept trace may not have');
    await h.trace('abc123');
    assert.equal(h.walks(), 3, 'nothing is kept from a dirty journey');
    h.model.dirty = false;
    h.model.basis = 2;
    await h.trace('abc123');
    await h.trace('abc123');
    assert.equal(h.walks(), 4, 'recomputed: a new basis, walked once');
    h.model.present = false;
    await h.trace('abc123');
    await h.trace('abc123');
    assert.equal(h.walks(), 6, 'no journey yet: always walked');
  });

  it('keeps nothing when traceCache is 0', async () => {
    const h = harness(0);
    await h.trace('abc123');
    await h.trace('abc123');
    assert.equal(h.walks(), 2);
  });
});
