/**
 * Soak (`npm run soak -- --hours=N`): against a running local mesh (started if needed), publishes a
 * steady stream of fresh events at every site, injects a fault every few minutes, and at the end
 * checks that every event is in the graph exactly once. Reports faults injected, events, lost,
 * duplicated, the largest publish→commit lag seen, and the resident memory of every mesh process at
 * the start and at the end. Not a test: it runs for hours on purpose.
 *
 *   --hours=1            how long to publish (fractions allowed: --hours=0.02 is about a minute)
 *   --rate=50            events per second, spread over the sites
 *   --fault-every=180    seconds between faults (the first after one interval)
 *   --settle=600         seconds to wait, after publishing stops, for the last events to arrive
 *   --config=<mesh.yaml> the mesh (default bench/mesh.soak.yaml: its own ports and state folder)
 *
 * Faults, in turn: a central RabbitMQ node stopped and started again (each node in turn on a
 * cluster), the correlator killed with SIGKILL and restarted, Neo4j stopped and started again, a
 * site's RabbitMQ node stopped and started again. For every site whose mesh entry has a
 * `centralAmqpPort`, the soak puts a TCP fault proxy on that port in front of central, and adds
 * three link faults: a black hole (half-open: no RST, nothing passes) held until the mesh's
 * Prometheus fires TracesSiteLinkHung for that site (at most 6 minutes); a slow link (300 ± 150 ms,
 * 16 KiB/s each way) for 4 minutes, during which that alert must stay quiet; and a link flapping
 * 5 s up, 5 s down for 90 s. The report gives when the hung-link alert fired.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMesh, Mesh, publishToSite, type MeshStatus } from '@not/mesh';
import neo4j, { type Driver } from 'neo4j-driver';
import { FaultProxy } from '../test/support/fault-proxy.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const HOURS = Number(args.get('hours') ?? 1);
const RATE = Number(args.get('rate') ?? 50);
const FAULT_EVERY_S = Number(args.get('fault-every') ?? 180);
const SETTLE_S = Number(args.get('settle') ?? 600);
for (const [name, v] of [
  ['hours', HOURS],
  ['rate', RATE],
  ['fault-every', FAULT_EVERY_S],
  ['settle', SETTLE_S],
] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}

type Raw = { meta: { id: string; time: number; type: string }; links: unknown[] };
const reference = JSON.parse(
  readFileSync(join(process.env.NOT_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'fixtures', 'eiffel', 'reference-50.json'), 'utf8'),
) as Raw[];
let cursor = 0;
function fresh(n: number): Raw[] {
  return Array.from({ length: n }, () => {
    const src = reference[cursor++ % reference.length]!;
    return { ...src, meta: { ...src.meta, id: randomUUID(), time: Date.now() }, links: [] };
  });
}

const log = (m: string): void => void process.stderr.write(`${new Date().toISOString()} ${m}\n`);

/** Resident memory of a process in MiB (Linux /proc), or undefined when it is not running. */
function rssMiB(pid: number): number | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(file, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

function memory(mesh: Mesh): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(mesh.processIds()).map(([name, pid]) => [name, rssMiB(pid)]));
}

async function counts(driver: Driver, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 5000) {
    const r = await driver.executeQuery(
      'UNWIND $ids AS id OPTIONAL MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN id, count(e) AS n',
      { ids: ids.slice(i, i + 5000) },
      { database: 'neo4j' },
    );
    for (const rec of r.records) out.set(rec.get('id') as string, Number(rec.get('n')));
  }
  return out;
}

interface Fault {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The alerts the mesh's Prometheus has active: name, site label and state. */
async function activeAlerts(status: MeshStatus): Promise<Array<{ name: string; site?: string; state: string }>> {
  const res = await fetch(`${status.prometheus.url}/api/v1/alerts`);
  if (!res.ok) throw new Error(`Prometheus /api/v1/alerts answered ${res.status}`);
  const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
  return body.data.alerts.map((a) => ({ name: a.labels['alertname']!, site: a.labels['site'], state: a.state }));
}

const HUNG_ALERT = 'TracesSiteLinkHung';
const hungFiring = async (status: MeshStatus, site: string): Promise<boolean> =>
  (await activeAlerts(status)).some((a) => a.name === HUNG_ALERT && a.site === site && a.state === 'firing');

/** What the link faults saw, for the report: `ok` false when the alert missed a black hole or fired for a slow link. */
const linkFindings: Array<{ ok: boolean; text: string }> = [];
function linkFinding(ok: boolean, text: string): void {
  linkFindings.push({ ok, text });
  log(text);
}

function linkFaults(status: MeshStatus, proxies: ReadonlyMap<string, FaultProxy>): Fault[] {
  const sites = [...proxies.keys()];
  if (sites.length === 0) return [];
  let next = 0;
  const pick = (): [string, FaultProxy] => {
    const site = sites[next++ % sites.length]!;
    return [site, proxies.get(site)!];
  };
  return [
    {
      name: 'link black hole',
      run: async () => {
        const [site, proxy] = pick();
        log(`fault: black-holing the link of ${site} until ${HUNG_ALERT} fires`);
        proxy.blackhole();
        const since = Date.now();
        let firedAfter: number | undefined;
        try {
          while (Date.now() - since < 360_000) {
            await pause(5000);
            if (await hungFiring(status, site).catch(() => false)) {
              firedAfter = (Date.now() - since) / 1000;
              break;
            }
          }
        } finally {
          proxy.heal();
        }
        linkFinding(
          firedAfter !== undefined,
          firedAfter === undefined
            ? `${site} black-holed for 6 min: ${HUNG_ALERT} did NOT fire`
            : `${site} black-holed: ${HUNG_ALERT} fired after ${firedAfter.toFixed(0)} s`,
        );
      },
    },
    {
      name: 'slow link',
      run: async () => {
        const [site, proxy] = pick();
        log(`fault: slowing the link of ${site} (300 ± 150 ms, 16 KiB/s) for 4 min`);
        proxy.degrade({ latencyMs: 300, jitterMs: 150, bytesPerSecond: 16 * 1024 });
        let fired = false;
        try {
          for (const end = Date.now() + 240_000; Date.now() < end;) {
            await pause(5000);
            if (await hungFiring(status, site).catch(() => false)) fired = true;
          }
        } finally {
          proxy.heal();
        }
        linkFinding(!fired, `${site} slowed for 4 min: ${HUNG_ALERT} ${fired ? 'FIRED (a slow link must not look hung)' : 'stayed quiet'}`);
      },
    },
    {
      name: 'flapping link',
      run: async () => {
        const [site, proxy] = pick();
        log(`fault: flapping the link of ${site} (5 s up, 5 s down) for 90 s`);
        proxy.flap(5000, 5000);
        await pause(90_000);
        proxy.heal();
      },
    },
  ];
}

function faults(mesh: Mesh, status: MeshStatus, proxies: ReadonlyMap<string, FaultProxy>): Fault[] {
  const centralNodes = mesh.centralNodeNames();
  let nextCentral = 0;
  let nextSite = 0;
  const links = linkFaults(status, proxies);
  const nodeFaults: Fault[] = [
    {
      name: 'central RabbitMQ node restart',
      run: async () => {
        const node = centralNodes[nextCentral++ % centralNodes.length]!;
        log(`fault: stopping RabbitMQ ${node}`);
        await mesh.stopNode(node);
        await pause(15_000);
        await mesh.startNode(node);
      },
    },
    {
      name: 'correlator SIGKILL',
      run: async () => {
        log('fault: killing the correlator (SIGKILL)');
        await mesh.killApp('correlator');
        await pause(5_000);
        await mesh.startAppByName('correlator');
      },
    },
    {
      name: 'Neo4j restart',
      run: async () => {
        log('fault: stopping Neo4j');
        await mesh.stopNeo4j();
        await pause(10_000);
        await mesh.startNeo4j();
      },
    },
    {
      name: 'site RabbitMQ node restart',
      run: async () => {
        const site = status.sites[nextSite++ % status.sites.length]!.id;
        log(`fault: stopping RabbitMQ ${site}`);
        await mesh.stopNode(site);
        await pause(10_000);
        await mesh.startNode(site);
      },
    },
  ];
  // A link fault between node and process faults, so each kind recurs within an hour.
  return nodeFaults.flatMap((f, i) => (links[i] ? [f, links[i]] : [f]));
}

async function main(): Promise<void> {
  const loaded = loadMesh(args.get('config') ?? 'bench/mesh.soak.yaml');
  const mesh = new Mesh(loaded, (m) => log(m));
  // The fault proxies first: the relays of those sites reach central only through them.
  const proxies = new Map<string, FaultProxy>();
  for (const site of loaded.config.sites) {
    if (site.centralAmqpPort === undefined) continue;
    const proxy = new FaultProxy(loaded.config.central.rabbitmq.amqpPort);
    await proxy.listen(site.centralAmqpPort);
    proxies.set(site.id, proxy);
    log(`fault proxy for ${site.id}: 127.0.0.1:${site.centralAmqpPort} → central ${loaded.config.central.rabbitmq.amqpPort}`);
  }
  let status = await mesh.status();
  if (!status.central.up || !status.neo4j.up) status = await mesh.up();
  const driver = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password), {
    maxTransactionRetryTime: 60_000,
  });
  const memStart = memory(mesh);
  const published = new Map<string, number>();
  const committed = new Set<string>();
  let maxLagMs = 0;
  let publishFailures = 0;
  const injected: string[] = [];
  const endAt = Date.now() + HOURS * 3600_000;
  log(`soak: ${RATE} events/s over ${status.sites.length} sites for ${HOURS} h, a fault every ${FAULT_EVERY_S} s`);

  // Lag: every 2 s, which of the published events have reached the graph since.
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const pending = [...published.keys()].filter((id) => !committed.has(id)).slice(0, 20_000);
      if (pending.length) {
        const found = await counts(driver, pending).catch(() => new Map<string, number>());
        const now = Date.now();
        for (const [id, n] of found) {
          if (n < 1) continue;
          committed.add(id);
          maxLagMs = Math.max(maxLagMs, now - published.get(id)!);
        }
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();

  // Faults, one at a time, in turn.
  const list = faults(mesh, status, proxies);
  let faulting = true;
  const faulter = (async () => {
    for (let i = 0; faulting; i++) {
      const wake = Date.now() + FAULT_EVERY_S * 1000;
      while (faulting && Date.now() < wake) await new Promise((r) => setTimeout(r, 500));
      if (!faulting) break;
      const f = list[i % list.length]!;
      try {
        await f.run();
        injected.push(f.name);
      } catch (err) {
        injected.push(`${f.name} (failed: ${(err as Error).message})`);
      }
    }
  })();

  // Steady traffic: one batch per site every second. A publish the site broker did not confirm is
  // retried with the same events (a tool that retries), so only confirmed events are counted.
  const perSite = Math.max(1, Math.round(RATE / status.sites.length));
  while (Date.now() < endAt) {
    const tick = Date.now();
    await Promise.all(
      status.sites.map(async (site) => {
        const batch = fresh(perSite);
        for (let attempt = 0; attempt < 60; attempt++) {
          try {
            await publishToSite(
              status,
              site.id,
              site.sources[0]!.name,
              batch.map((e) => Buffer.from(JSON.stringify(e))),
            );
            const at = Date.now();
            for (const e of batch) published.set(e.meta.id, at);
            return;
          } catch {
            publishFailures++;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, tick + 1000 - Date.now())));
  }
  faulting = false;
  log('publishing stopped; waiting for the current fault to end and the last events to arrive');
  await faulter;
  const settleUntil = Date.now() + SETTLE_S * 1000;
  while (committed.size < published.size && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 2000));
  polling = false;
  await poller;

  const ids = [...published.keys()];
  const final = await counts(driver, ids);
  const lost = ids.filter((id) => (final.get(id) ?? 0) === 0).length;
  const duplicated = ids.filter((id) => (final.get(id) ?? 0) > 1).length;
  await driver.close();
  const memEnd = memory(mesh);

  const out = process.stdout;
  out.write(`soak: ${HOURS} h at ${RATE} events/s over ${status.sites.length} sites\n`);
  out.write(`faults injected: ${injected.length}${injected.length ? ` (${injected.join('; ')})` : ''}\n`);
  out.write(`events published (confirmed by the site brokers): ${ids.length}; publish attempts retried: ${publishFailures}\n`);
  out.write(`lost: ${lost}\nduplicated: ${duplicated}\nmax publish→commit lag: ${(maxLagMs / 1000).toFixed(1)} s\n`);
  for (const f of linkFindings) out.write(`link: ${f.text}\n`);
  out.write('memory (RSS MiB) at start → end:\n');
  for (const name of [...new Set([...Object.keys(memStart), ...Object.keys(memEnd)])].sort()) {
    out.write(`  ${name.padEnd(22)} ${String(memStart[name] ?? '-').padStart(6)} → ${String(memEnd[name] ?? '-').padStart(6)}\n`);
  }
  for (const p of proxies.values()) await p.close();
  const linkOk = linkFindings.every((f) => f.ok);
  process.exit(lost === 0 && duplicated === 0 && linkOk ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
