import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { IsolatedCentral } from '../support/central.js';
import { countEvents, neo4jDriver, referenceStream, testStatus, waitUntil } from '../support/mesh.js';

/** n events shaped like the reference stream (cycling through it), each with a fresh id. */
function freshEvents(n: number) {
  const stream = referenceStream();
  return Array.from({ length: n }, (_, i) => {
    const e = stream[i % stream.length]!;
    return { ...e, meta: { ...e.meta, id: randomUUID() } };
  });
}

async function allOnce(driver: Driver, ids: string[]): Promise<boolean> {
  const counts = await countEvents(driver, ids);
  return counts.size === ids.length && [...counts.values()].every((n) => n === 1);
}

describe('the correlator through faults', () => {
  let status: MeshStatus;
  let driver: Driver;
  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
  });
  after(async () => driver?.close());

  it('loses nothing when killed (SIGKILL) mid-stream and restarted', async () => {
    const central = await new IsolatedCentral(status).create();
    try {
      const events = freshEvents(1000);
      const ids = events.map((e) => e.meta.id);
      const first = await central.startCorrelator(8951, { size: 100, maxWaitMs: 50 });
      await central.publish(events);
      await waitUntil('some events written', async () => [...(await countEvents(driver, ids)).values()].some((n) => n === 1), 60_000, 100);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('close', r));
      await central.startCorrelator(8951, { size: 100, maxWaitMs: 50 });
      await waitUntil('all 1000 events exactly once', () => allOnce(driver, ids), 120_000, 1000);
    } finally {
      await central.stop();
    }
  });

  it('two correlators consuming the same queue write the graph one would', async () => {
    const central = await new IsolatedCentral(status).create();
    try {
      // Events that link to each other, so both writers touch the same nodes.
      const events = freshEvents(600).map((e, i, all) => ({
        ...e,
        links: i > 0 ? [{ type: 'CAUSE', target: all[Math.floor(i / 2)]!.meta.id }] : [],
      }));
      const ids = events.map((e) => e.meta.id);
      await central.startCorrelator(8952, { size: 50, maxWaitMs: 10 });
      await central.startCorrelator(8953, { size: 50, maxWaitMs: 10 });
      await central.publish(events);
      await waitUntil('all 600 events exactly once', () => allOnce(driver, ids), 120_000, 1000);
      const rels = await driver.executeQuery(
        'UNWIND $ids AS id MATCH (:Event {id: id})-[r:CAUSE]->(t:Event) RETURN count(r) AS n, sum(CASE WHEN t:Placeholder THEN 1 ELSE 0 END) AS p',
        { ids },
        { database: 'neo4j' },
      );
      assert.equal(rels.records[0]!.get('n'), 599, 'one relationship per link');
      assert.equal(rels.records[0]!.get('p'), 0, 'no placeholder left');
    } finally {
      await central.stop();
    }
  });

  it('dead-letters 300 bad messages of every kind, mixed into the batches, with readable reasons and writes all 3,000 good ones', async () => {
    const central = await new IsolatedCentral(status).create();
    try {
      const good = freshEvents(3000);
      const ids = good.map((e) => e.meta.id);
      const valid = good[0]!;
      const badKinds: Array<{ body: () => Buffer; routingKey?: string; reason: RegExp }> = [
        { body: () => Buffer.from('{not json'), reason: /^body: body is not valid JSON/ },
        { body: () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), reason: /^body: body is not valid UTF-8 text/ },
        {
          body: () => Buffer.from(JSON.stringify({ ...valid, meta: { ...valid.meta, id: undefined } })),
          reason: /^meta\.id: required string is missing/,
        },
        {
          body: () => Buffer.from(JSON.stringify({ ...valid, meta: { ...valid.meta, id: randomUUID(), time: 'yesterday' } })),
          reason: /^meta\.time: expected a number/,
        },
        {
          body: () => Buffer.from(JSON.stringify({ ...valid, pad: 'x'.repeat(5000) })),
          reason: /^body: body is \d+ bytes, more than the limit of 4096 bytes/,
        },
        {
          body: () => Buffer.from(JSON.stringify(valid)),
          routingKey: 'site.site-x.ci.cdevents',
          reason: /the routing key says cdevents but the body looks like eiffel/,
        },
      ];
      const correlator = await central.startCorrelator(8954, { size: 500, maxWaitMs: 20 }, { parse: { maxBytes: 4096 } });
      // 10 good, 1 bad, in turn, kinds rotating: 3,000 good and 300 bad, 50 of each kind.
      for (let chunk = 0; chunk < 3; chunk++) {
        const byKey = new Map<string, Buffer[]>();
        const add = (key: string, b: Buffer) => byKey.set(key, [...(byKey.get(key) ?? []), b]);
        for (let i = chunk * 1000; i < (chunk + 1) * 1000; i++) {
          add('site.site-x.ci.eiffel', Buffer.from(JSON.stringify(good[i])));
          if (i % 10 === 9) {
            const kind = badKinds[Math.floor(i / 10) % badKinds.length]!;
            add(kind.routingKey ?? 'site.site-x.ci.eiffel', kind.body());
          }
        }
        for (const [key, bodies] of byKey) await central.publish(bodies, key);
      }
      await waitUntil('all 3,000 good events written', () => allOnce(driver, ids), 300_000, 2000);
      await waitUntil('300 messages in the dead-letter queue', async () => (await central.queue('not.dead')).ready === 300, 60_000, 1000);
      const dead = await central.drain('not.dead', 2000);
      assert.equal(dead.length, 300);
      const perKind = badKinds.map(() => 0);
      for (const d of dead) {
        const reason = String(d.headers['x-not-reason']);
        const k = badKinds.findIndex((b) => b.reason.test(reason));
        assert.ok(k >= 0, `unexpected reason: ${reason}`);
        perKind[k]!++;
      }
      assert.ok(
        perKind.every((n) => n === 50),
        `every kind dead-lettered: ${perKind.join(', ')}`,
      );
      assert.equal(correlator.exitCode, null, 'the correlator never restarts');
    } finally {
      await central.stop();
    }
  });

  it('traces replay re-reads the archive into the graph', async () => {
    const central = await new IsolatedCentral(status).create();
    try {
      const events = freshEvents(50);
      const ids = events.map((e) => e.meta.id);
      await central.startCorrelator(8955);
      await central.publish(events);
      await waitUntil('50 events written', () => allOnce(driver, ids), 60_000, 500);
      // Lose them from the graph (as a parser bug would), then replay.
      await driver.executeQuery('UNWIND $ids AS id MATCH (e:Event {id: id}) DETACH DELETE e', { ids }, { database: 'neo4j' });
      const r = spawnSync(
        process.execPath,
        [join(process.cwd(), 'bin', 'traces.js'), 'replay', '--from', '10m', '--url', central.url, '--site', 'site-x'],
        { encoding: 'utf8', timeout: 120_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /replay done: 50 message\(s\) sent to the ingest queue again/);
      await waitUntil('the replayed events written again', () => allOnce(driver, ids), 60_000, 500);
    } finally {
      await central.stop();
    }
  });
});
