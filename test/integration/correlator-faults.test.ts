import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { IsolatedCentral } from '../support/central.js';
import { countEvents, neo4jDriver, referenceStream, testStatus, waitUntil } from '../support/mesh.js';

function freshEvents(n: number) {
  return referenceStream()
    .slice(0, n)
    .map((e) => ({ ...e, meta: { ...e.meta, id: randomUUID() } }));
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

  it('dead-letters bad messages with a readable reason and writes every good one', async () => {
    const central = await new IsolatedCentral(status).create();
    try {
      const good = freshEvents(200);
      const ids = good.map((e) => e.meta.id);
      const bad = ['{not json', '{"meta": {"type": "EiffelActivityTriggeredEvent"}}', Buffer.from([0xff, 0xfe, 0x00]), '[]'];
      const correlator = await central.startCorrelator(8954);
      const mixed: Array<string | Buffer | object> = [];
      good.forEach((e, i) => {
        mixed.push(e);
        if (i % 50 === 0) mixed.push(bad[(i / 50) % bad.length]!);
      });
      await central.publish(mixed);
      await waitUntil('all good events written', () => allOnce(driver, ids), 60_000, 500);
      await waitUntil('the bad messages in the dead-letter queue', async () => (await central.queue('not.dead')).ready === 4, 30_000, 1000);
      const dead = await central.drain('not.dead', 10);
      assert.equal(dead.length, 4);
      for (const d of dead) {
        const reason = d.headers['x-not-reason'];
        assert.equal(typeof reason, 'string', `reason header on ${d.body}`);
        assert.ok((reason as string).length > 5, `readable reason: ${String(reason)}`);
      }
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
