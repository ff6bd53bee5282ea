import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from './coalescer.js';

/** A batch runner whose batches are answered (or failed) when the test says so. */
function runner() {
  const batches: Array<{ asks: number[]; answer: () => void; fail: (e: Error) => void }> = [];
  const run = (asks: number[]): Promise<string[]> =>
    new Promise((resolve, reject) => batches.push({ asks, answer: () => resolve(asks.map((a) => `answer ${a}`)), fail: reject }));
  return { run, batches };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends an ask alone at once while fewer batches than allowed are out', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { inFlight: 2, maxBatch: 10 });
    const a = c.ask(1);
    const b = c.ask(2);
    assert.deepEqual(
      r.batches.map((x) => x.asks),
      [[1], [2]],
    );
    r.batches[0]!.answer();
    r.batches[1]!.answer();
    assert.deepEqual(await Promise.all([a, b]), ['answer 1', 'answer 2']);
  });

  it('sends the asks that came while every batch was out as one batch when one comes back, each answered its own', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { inFlight: 1, maxBatch: 10 });
    const first = c.ask(1);
    const rest = [2, 3, 4].map((n) => c.ask(n));
    assert.equal(r.batches.length, 1, 'the others wait for the one out');
    r.batches[0]!.answer();
    assert.equal(await first, 'answer 1');
    await tick();
    assert.deepEqual(
      r.batches.map((x) => x.asks),
      [[1], [2, 3, 4]],
    );
    r.batches[1]!.answer();
    assert.deepEqual(await Promise.all(rest), ['answer 2', 'answer 3', 'answer 4']);
  });

  it('keeps a batch to maxBatch asks', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { inFlight: 1, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => c.ask(n));
    for (let i = 0; i < 3; i++) {
      r.batches[i]!.answer();
      await tick();
    }
    assert.deepEqual(
      r.batches.map((x) => x.asks),
      [[1], [2, 3], [4, 5]],
    );
    assert.deepEqual(
      await Promise.all(all),
      [1, 2, 3, 4, 5].map((n) => `answer ${n}`),
    );
  });

  it('fails every ask of a failed batch with its error, and answers the next batch', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { inFlight: 1, maxBatch: 10 });
    const first = c.ask(1);
    const failed = [c.ask(2), c.ask(3)];
    const later = c.ask(4);
    r.batches[0]!.answer();
    await first;
    await tick();
    assert.deepEqual(r.batches[1]!.asks, [2, 3, 4]);
    r.batches[1]!.fail(new Error('Neo4j went away'));
    for (const f of [...failed, later]) await assert.rejects(f, /Neo4j went away/);
    const after = c.ask(5);
    r.batches[2]!.answer();
    assert.equal(await after, 'answer 5');
  });

  it('fails a batch whose runner answered a different number of asks', async () => {
    const c = new Coalescer(async (asks: number[]) => asks.slice(1), { inFlight: 1, maxBatch: 10 });
    await assert.rejects(c.ask(1), /a batch of 1 asks came back with 0 answers/);
  });

  it('refuses limits below one', () => {
    assert.throws(() => new Coalescer(async () => [], { inFlight: 0, maxBatch: 1 }), /inFlight ≥ 1 and maxBatch ≥ 1/);
  });
});
