import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '@not/events';
import type { GraphRepository, WriteResult } from '@not/graph';
import { PoisonMessageError } from '@not/messaging';
import { Registry } from 'prom-client';
import { BatchWriter } from './batch.writer.js';
import { CorrelatorSettings, type CorrelatorConfig } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';

function event(id: string): TraceEvent {
  return {
    id,
    type: 'EiffelActivityTriggeredEvent',
    stage: 'build',
    time: '2026-01-01T00:00:00.000Z',
    site: 'site-a',
    source: 'ci',
    format: 'eiffel',
    props: {},
    links: [],
    about: [],
    entities: [],
    relations: [],
  };
}

class FakeGraph {
  readonly calls: string[][] = [];
  constructor(private readonly behaviour: (ids: string[], call: number) => void) {}
  async writeEvents(events: readonly TraceEvent[]): Promise<WriteResult> {
    const ids = events.map((e) => e.id);
    this.calls.push(ids);
    this.behaviour(ids, this.calls.length);
    return { created: ids.length, duplicates: 0, conflicts: [] };
  }
}

function writer(graph: FakeGraph, size = 3, maxWaitMs = 5): BatchWriter {
  const settings = new CorrelatorSettings({ batch: { size, maxWaitMs } } as CorrelatorConfig);
  return new BatchWriter(graph as unknown as GraphRepository, settings, new CorrelatorMetrics(new Registry()));
}

describe('BatchWriter', () => {
  it('writes the events of several messages in one transaction and settles each message', async () => {
    const graph = new FakeGraph(() => undefined);
    const w = writer(graph, 10);
    await Promise.all([w.submit([event('a')]), w.submit([event('b'), event('c')])]);
    assert.deepEqual(graph.calls, [['a', 'b', 'c']]);
  });

  it('holds the messages and retries while Neo4j is unavailable', async () => {
    const graph = new FakeGraph((_ids, call) => {
      if (call <= 2) throw Object.assign(new Error('connection refused'), { code: 'ServiceUnavailable' });
    });
    const w = writer(graph);
    await w.submit([event('a')]);
    assert.equal(graph.calls.length, 3);
  });

  it('splits a failing batch so one poison message is rejected and the rest commit', async () => {
    const graph = new FakeGraph((ids) => {
      if (ids.includes('bad'))
        throw Object.assign(new Error('Property values can only be of primitive types'), { code: 'Neo.ClientError.Statement.TypeError' });
    });
    const w = writer(graph, 3, 50);
    const results = await Promise.allSettled([w.submit([event('a')]), w.submit([event('bad')]), w.submit([event('c')])]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    const reason = (results[1] as PromiseRejectedResult).reason as Error;
    assert.ok(reason instanceof PoisonMessageError);
    assert.match(reason.message, /graph write failed: Property values/);
  });
});
