import { loadMesh, Mesh, type MeshStatus } from '@not/mesh';
import neo4j, { type Driver } from 'neo4j-driver';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cdeventsIncident } from '../../apps/explorer/src/testing/eiffel-pipeline.js';

/** The mesh the integration and e2e tiers run against (started by `npm test`). */
export function testMesh(): Mesh {
  return new Mesh(loadMesh(process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml'));
}

export async function testStatus(): Promise<MeshStatus> {
  const status = await testMesh().status();
  if (!status.central.up || !status.neo4j.up) {
    throw new Error('the test mesh is not running: run the tests with "npm test" (it starts the mesh)');
  }
  return status;
}

export function neo4jDriver(status: MeshStatus): Driver {
  return neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password), { disableLosslessIntegers: true });
}

export async function countEvents(driver: Driver, ids: readonly string[]): Promise<Map<string, number>> {
  const res = await driver.executeQuery(
    'UNWIND $ids AS id OPTIONAL MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN id, count(e) AS n',
    { ids },
    { database: 'neo4j' },
  );
  return new Map(res.records.map((r) => [r.get('id') as string, r.get('n') as number]));
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The shared folder beside the repository (fixtures), as CI lays it out. */
export function sharedDir(): string {
  return resolve(process.env.NOT_SHARED_DIR ?? join(process.cwd(), '..', 'shared'));
}

/** The Eiffel reference stream, as raw event objects. */
export function referenceStream(): Array<{ meta: { id: string; type: string } }> {
  return JSON.parse(readFileSync(join(sharedDir(), 'fixtures', 'eiffel', 'reference-50.json'), 'utf8')) as Array<{
    meta: { id: string; type: string };
  }>;
}

export async function managementGet<T>(status: MeshStatus, path: string): Promise<T> {
  const auth = Buffer.from(`${status.central.user}:${status.central.password}`).toString('base64');
  const res = await fetch(new URL(path, status.central.management), { headers: { authorization: `Basic ${auth}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** Sums a Prometheus counter over the series whose labels include all of `labels`. */
export async function metricSum(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? ([\d.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Reads a central archive stream from its start until a message matches (or the time runs out). */
export async function findInArchive(
  url: string,
  match: (m: { body: string; headers: Record<string, unknown>; routingKey: string }) => boolean,
  timeoutMs = 90_000,
): Promise<{ routingKey: string; headers: Record<string, unknown>; body: string }> {
  const { default: amqp } = await import('amqplib');
  const deadline = Date.now() + timeoutMs;
  // The shovel may still be carrying it: read the stream again until it shows up.
  for (;;) {
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createChannel();
      await ch.prefetch(1000);
      const found = await new Promise<{ routingKey: string; headers: Record<string, unknown>; body: string } | undefined>((resolve) => {
        let idle = setTimeout(() => resolve(undefined), 2000);
        void ch.consume(
          'not.archive',
          (m) => {
            if (!m) return;
            clearTimeout(idle);
            idle = setTimeout(() => resolve(undefined), 2000);
            ch.ack(m);
            const candidate = { routingKey: m.fields.routingKey, headers: m.properties.headers ?? {}, body: m.content.toString('utf8') };
            if (match(candidate)) {
              clearTimeout(idle);
              resolve(candidate);
            }
          },
          { arguments: { 'x-stream-offset': 'first' } },
        );
      });
      if (found) return found;
    } finally {
      await conn.close().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`no matching message in not.archive within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Posts a production incident on `purl` (detected, then resolved) to a site relay's generic webhook as CDEvents. */
export async function publishIncident(
  status: MeshStatus,
  siteId: string,
  run: string,
  purl: string,
  detectedAt: number,
  resolvedAt: number,
): Promise<void> {
  const relay = status.sites.find((s) => s.id === siteId)!.relay;
  for (const body of cdeventsIncident(run, purl, detectedAt, resolvedAt)) {
    const res = await fetch(`${relay.webhooks}/generic?format=cdevents`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${relay.webhookSecret}` },
    });
    if (res.status !== 202) throw new Error(`the relay of ${siteId} answered ${res.status} to an incident event: ${await res.text()}`);
  }
}

/** Waits until both events of the incident `publishIncident(…, run, …)` posted are in Neo4j, about the artifact `artifactKey`. */
export async function waitForIncident(driver: Driver, run: string, artifactKey: string): Promise<void> {
  await waitUntil(
    `incident-${run} in Neo4j, about ${artifactKey}`,
    async () => {
      const r = await driver.executeQuery('MATCH (e:Event {subjectId: $id})-[:ABOUT]->(:Artifact {key: $a}) RETURN count(e) AS n', {
        id: `incident-${run}`,
        a: artifactKey,
      });
      return Number(r.records[0]!.get('n')) === 2;
    },
    120_000,
    1000,
  );
}
