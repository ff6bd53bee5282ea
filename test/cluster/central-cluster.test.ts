import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { countEvents, metricSum, neo4jDriver, referenceStream, testMesh, testStatus, waitUntil } from '../support/mesh.js';

/**
 * Central as a three-node RabbitMQ cluster (test/mesh.cluster.test.yaml): the ingest queue and the
 * archive stream have a replica on every node, the shovels and the correlator know every node, and
 * two sites keep publishing while one node is stopped, then while another is killed with SIGKILL.
 */

type QueueInfo = { type: string; members?: string[]; online?: string[]; leader?: string };

async function management<T>(status: MeshStatus, node: number, path: string): Promise<T> {
  const auth = Buffer.from(`${status.central.user}:${status.central.password}`).toString('base64');
  const res = await fetch(new URL(path, status.central.nodes[node]!.management), { headers: { authorization: `Basic ${auth}` } });
  if (!res.ok) throw new Error(`GET ${path} on central node ${node + 1}: ${res.status}`);
  return (await res.json()) as T;
}

/** Publishes `batches` batches of fresh events at a site, one batch every `everyMs`; returns the ids confirmed. */
async function publishSteadily(status: MeshStatus, site: string, batches: number, size: number, everyMs: number): Promise<string[]> {
  const stream = referenceStream();
  const ids: string[] = [];
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: size }, (_, i) => {
      const e = stream[(b * size + i) % stream.length]!;
      return { ...e, meta: { ...e.meta, id: randomUUID() }, links: [] };
    });
    // The site broker is untouched by the fault: every publish must be confirmed there.
    await publishToSite(
      status,
      site,
      'ci',
      events.map((e) => Buffer.from(JSON.stringify(e))),
    );
    ids.push(...events.map((e) => e.meta.id));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return ids;
}

async function missingOrDoubled(driver: Driver, ids: readonly string[]): Promise<{ missing: number; doubled: number }> {
  const counts = await countEvents(driver, ids);
  let missing = 0;
  let doubled = 0;
  for (const id of ids) {
    const n = counts.get(id) ?? 0;
    if (n === 0) missing++;
    if (n > 1) doubled++;
  }
  return { missing, doubled };
}

describe('central as a three-node RabbitMQ cluster', () => {
  let status: MeshStatus;
  let driver: Driver;
  const mesh = testMesh();

  before(async () => {
    status = await testStatus();
    assert.ok(
      status.central.nodes.length >= 3,
      `this test needs central.nodes: 3 in the mesh file (${process.env.NOT_TEST_MESH ?? 'default'})`,
    );
    driver = neo4jDriver(status);
  });

  after(async () => {
    // Whatever happened, leave every node running for the next test.
    for (const n of status?.central.nodes ?? []) await mesh.startNode(n.name).catch(() => undefined);
    await driver?.close();
  });

  it('forms one cluster with the ingest queue and the archive stream replicated on every node', async () => {
    const nodes = await management<Array<{ name: string; running: boolean }>>(status, 0, '/api/nodes');
    assert.deepEqual(nodes.map((n) => n.name).sort(), status.central.nodes.map((n) => n.nodeName).sort());
    assert.ok(nodes.every((n) => n.running));
    for (const [queue, type] of [
      ['not.ingest', 'quorum'],
      ['not.archive', 'stream'],
      ['not.dead', 'quorum'],
    ] as const) {
      const q = await management<QueueInfo>(status, 1, `/api/queues/%2F/${encodeURIComponent(queue)}`);
      assert.equal(q.type, type, queue);
      assert.deepEqual(
        [...(q.members ?? [])].sort(),
        status.central.nodes.map((n) => n.nodeName).sort(),
        `${queue} has a replica on every node`,
      );
    }
    // Each site's shovel was given every node's address.
    const site = status.sites[0]!;
    const auth = Buffer.from(`${site.user}:${site.password}`).toString('base64');
    const params = (await (
      await fetch(new URL('/api/parameters/shovel/%2F', site.management), { headers: { authorization: `Basic ${auth}` } })
    ).json()) as Array<{ value: { 'dest-uri': string | string[] } }>;
    assert.ok(params.length > 0, 'the relay declared its shovels');
    for (const p of params) {
      const uris = [p.value['dest-uri']].flat();
      assert.equal(uris.length, status.central.nodes.length, 'one destination URI per central node');
    }
  });

  it('loses and doubles nothing from two sites while one node is stopped and then another is killed', async () => {
    const publishing = (site: string) => publishSteadily(status, site, 40, 25, 500);
    // A redelivery is harmless (the write is idempotent); a redelivery that changed the content would count here.
    const conflictsBefore = await metricSum(status.correlator.url, 'traces_correlator_conflicts_total');

    // Step 1: a clean stop of the first node (the one the shovels and the correlator list first).
    const step1 = Promise.all([publishing('site-a'), publishing('site-b')]);
    await new Promise((r) => setTimeout(r, 3000));
    await mesh.stopNode('central');
    await new Promise((r) => setTimeout(r, 8000));
    await mesh.startNode('central');
    const ids1 = (await step1).flat();

    // Step 2: SIGKILL of the third node's process group, without warning.
    const step2 = Promise.all([publishing('site-a'), publishing('site-b')]);
    await new Promise((r) => setTimeout(r, 3000));
    await mesh.killNode('central-3');
    await new Promise((r) => setTimeout(r, 8000));
    await mesh.startNode('central-3');
    const ids2 = (await step2).flat();

    const ids = [...ids1, ...ids2];
    assert.equal(ids.length, 2 * 2 * 40 * 25);
    await waitUntil(
      `all ${ids.length} events in the graph`,
      async () => (await missingOrDoubled(driver, ids)).missing === 0,
      240_000,
      2000,
    );
    assert.deepEqual(await missingOrDoubled(driver, ids), { missing: 0, doubled: 0 });
    assert.equal(await metricSum(status.correlator.url, 'traces_correlator_conflicts_total'), conflictsBefore, 'no event arrived altered');

    // Nothing left behind: no dead letter, no unroutable message, and the ingest queue drains.
    await waitUntil(
      'the ingest queue to drain',
      async () => (await management<{ messages?: number }>(status, 1, '/api/queues/%2F/not.ingest')).messages === 0,
      120_000,
      2000,
    );
    for (const q of ['not.dead', 'not.unroutable']) {
      assert.equal((await management<{ messages?: number }>(status, 1, `/api/queues/%2F/${q}`)).messages ?? 0, 0, `${q} is empty`);
    }
    // The cluster is whole again.
    const nodes = await management<Array<{ running: boolean }>>(status, 0, '/api/nodes');
    assert.equal(nodes.filter((n) => n.running).length, status.central.nodes.length);
  });
});
