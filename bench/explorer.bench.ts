/**
 * Explorer load benchmark (`npm run bench:explorer`): against the local mesh (deploy/local/mesh.yaml,
 * started if needed, apps included), drives the explorer's HTTP API the way users do while ingest
 * runs at a steady rate through the sites, and reports per route the throughput and p50/p99, the CPU
 * each of the mesh's processes (and the benchmark itself) used meanwhile, then the CPU the explorer
 * and Neo4j use when nobody asks anything. The users ask about pipelines the journey model has taken
 * in. Not a test: the figures depend on the machine (and on what else runs on it).
 *
 *   --pipelines=20        Eiffel pipelines published first (about 45 events each, two sites), the
 *                         population the users ask about; a larger graph comes from bench:query
 *   --users=16            concurrent users; each picks a route and a subject at random per request
 *   --seconds=30          how long the users ask
 *   --rate=500            events/s published during the measurement (0: no ingest)
 *   --idle-seconds=30     how long CPU is sampled with no users and no ingest, once the explorer found the
 *                         graph unchanged after the load
 *   --routes=a,b          only these routes (by the names printed, spaces as dashes: trace-by-commit,
 *                         trace-by-work-item, trace-by-artifact, release, lead-time), default all
 *   --config=<mesh.yaml>  another mesh
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { loadMesh, Mesh, openSitePublisher, publishToSite, readState, type MeshStatus, type SitePublisher } from '@not/mesh';
import { modelSettled } from './mesh-graph.js';
import { eiffelPipeline, type Pipeline } from '../apps/explorer/src/testing/eiffel-pipeline.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const num = (name: string, fallback: number): number => {
  const v = Number(args.get(name) ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number ≥ 0`);
  return v;
};
const PIPELINES = num('pipelines', 20);
const USERS = Math.max(1, num('users', 16));
const SECONDS = num('seconds', 30);
const RATE = num('rate', 500);
const IDLE_SECONDS = num('idle-seconds', 30);
const log = (m: string): void => void process.stderr.write(`• ${m}\n`);

const DAY = 86_400_000;
const run = randomBytes(3).toString('hex');
/** Pipelines dated over the last 20 days, so the lead-time window (30 days) holds them. */
const base = (i: number): number => Date.now() - 20 * DAY + ((i * 7919) % (19 * 24)) * 3_600_000;

async function publish(status: MeshStatus, pipelines: readonly Pipeline[]): Promise<void> {
  for (const site of ['a', 'b'] as const) {
    const bodies = pipelines.flatMap((p) => p.events.filter((e) => e.site === site).map((e) => Buffer.from(JSON.stringify(e.event))));
    if (bodies.length) await publishToSite(status, `site-${site}`, 'ci', bodies);
  }
}

/**
 * Steady ingest: a new pipeline's events every tick, at about `rate` events/s in all, until stopped,
 * through one connection per site kept open as a tool keeps its own.
 */
function ingest(status: MeshStatus, rate: number): { stop: () => Promise<number> } {
  let stopped = false;
  let sent = 0;
  let n = 0;
  const loop = (async () => {
    const publishers = new Map<string, SitePublisher>();
    for (const site of ['a', 'b']) publishers.set(site, await openSitePublisher(status, `site-${site}`, 'ci'));
    try {
      const perPipeline = eiffelPipeline('probe', Date.now()).events.length;
      const interval = (perPipeline / rate) * 1000;
      // Ticks keep to the clock; a pipeline's confirms are awaited beside the next ticks (at most 50 in flight).
      const inFlight = new Set<Promise<void>>();
      for (let next = Date.now(); !stopped; next += interval) {
        // Pipelines of 20 repositories, as a site's CI builds the same repositories again and again.
        const p = eiffelPipeline(`ing${run}x${n}`, Date.now() - DAY, { repository: `shop-ingest-${n++ % 20}` });
        const done: Promise<void> = Promise.all(
          [...publishers].map(async ([site, publisher]) => {
            const bodies = p.events.filter((e) => e.site === site).map((e) => Buffer.from(JSON.stringify(e.event)));
            // Added after the confirm: \`sent += await …\` would read \`sent\` before the wait and lose the other site's count.
            const confirmed = bodies.length ? await publisher.publish(bodies) : 0;
            sent += confirmed;
          }),
        ).then(() => void inFlight.delete(done));
        inFlight.add(done);
        if (inFlight.size >= 50) await Promise.race(inFlight);
        await new Promise((r) => setTimeout(r, Math.max(0, next + interval - Date.now())));
      }
      await Promise.all(inFlight);
    } finally {
      for (const publisher of publishers.values()) await publisher.close();
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return sent;
    },
  };
}

interface Route {
  readonly name: string;
  readonly path: (p: Pipeline) => string;
}

const ROUTES: Route[] = [
  { name: 'trace by commit', path: (p) => `/api/v1/trace/commit/${p.commits.C1.sha.slice(0, 12)}` },
  { name: 'trace by work item', path: (p) => `/api/v1/trace/work-item/${encodeURIComponent(p.commits.C2.workItem)}` },
  { name: 'trace by artifact', path: (p) => `/api/v1/trace/artifact/${encodeURIComponent(p.artifacts.A1)}` },
  { name: 'release', path: (p) => `/api/v1/releases/${encodeURIComponent(p.product)}/1.0` },
  {
    name: 'lead time (30 days)',
    path: () => `/api/v1/lead-time?from=${new Date(Date.now() - 30 * DAY).toISOString()}&to=${new Date().toISOString()}`,
  },
];

const ROUTE_KEY = (r: Route): string => r.name.replace(/ \(.*\)$/, '').replace(/ /g, '-');
const CHOSEN: Route[] = args.has('routes')
  ? args
      .get('routes')!
      .split(',')
      .map((name) => {
        const r = ROUTES.find((x) => ROUTE_KEY(x) === name);
        if (!r) throw new Error(`--routes: unknown route "${name}"; known: ${ROUTES.map(ROUTE_KEY).join(', ')}`);
        return r;
      })
  : ROUTES;

function pct(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! : NaN;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line; after "pid (comm) " they are 12th and 13th.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The mesh's processes by name: the apps, Neo4j and Prometheus from its state, and its RabbitMQ nodes (by their home directory). */
function meshProcesses(stateDir: string): Map<string, number> {
  const out = new Map<string, number>(
    Object.entries(readState(stateDir)?.pids ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const home = cmd.indexOf('-home');
      const dir = home >= 0 ? cmd[home + 1] : undefined;
      if (cmd[0]?.endsWith('beam.smp') && dir?.startsWith(`${stateDir}/rabbitmq/`))
        out.set(`rabbitmq ${dir.split('/').pop()}`, Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Starts counting the CPU of the mesh's processes and of this one; the result gives % of a core each. */
function cpuMeter(stateDir: string): () => Array<[string, number]> {
  const pids = meshProcesses(stateDir);
  const before = new Map([...pids].map(([name, pid]) => [name, cpuSeconds(pid)]));
  const self = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(self);
    const rows: Array<[string, number]> = [...pids].map(([name, pid]) => {
      let now = NaN;
      try {
        now = cpuSeconds(pid);
      } catch {
        // stopped meanwhile
      }
      return [name, ((now - before.get(name)!) / seconds) * 100];
    });
    rows.push(['this benchmark (users, ingest)', ((used.user + used.system) / 1e6 / seconds) * 100]);
    return rows;
  };
}

async function main(): Promise<void> {
  const mesh = new Mesh(loadMesh(args.get('config')), log);
  let status = await mesh.status();
  if (!status.explorer.up || !status.correlator.up) status = await mesh.up({});
  const token = status.explorer.token;
  const get = async (path: string): Promise<number> => {
    const res = await fetch(`${status.explorer.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  };

  const pipelines = Array.from({ length: PIPELINES }, (_, i) => eiffelPipeline(`eb${run}x${i}`, base(i)));
  log(`publishing ${pipelines.length} pipelines (${pipelines.reduce((n, p) => n + p.events.length, 0)} events) at two sites`);
  await publish(status, pipelines);
  // Ready when the last pipeline's release is traceable.
  const last = pipelines[pipelines.length - 1]!;
  for (let i = 0; ; i++) {
    if ((await get(ROUTES[0]!.path(last))) === 200) break;
    if (i > 600) throw new Error('the published pipelines did not reach the explorer within 5 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }

  // The users ask about changes published a while ago: the journey model has taken them in (as it has
  // within a second when the correlator keeps up), so their traces are the explorer's kept answers.
  log('waiting for the journey model to take in the published pipelines');
  if (!(await modelSettled(status, 600_000)))
    throw new Error('the journey model did not take in the published pipelines within 10 minutes');
  log(`${USERS} users for ${SECONDS} s${RATE ? `, ingest at ${RATE} events/s` : ''}`);
  const feed = RATE > 0 ? ingest(status, RATE) : undefined;
  const times = new Map<string, number[]>(CHOSEN.map((r) => [r.name, []]));
  const errors = new Map<string, Map<number, number>>(CHOSEN.map((r) => [r.name, new Map()]));
  const meter = cpuMeter(status.stateDir);
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: USERS }, async () => {
      while (Date.now() < end) {
        const route = CHOSEN[Math.floor(Math.random() * CHOSEN.length)]!;
        const p = pipelines[Math.floor(Math.random() * pipelines.length)]!;
        const t0 = performance.now();
        const code = await get(route.path(p)).catch(() => 0);
        const ms = performance.now() - t0;
        if (code === 200) times.get(route.name)!.push(ms);
        else errors.get(route.name)!.set(code, (errors.get(route.name)!.get(code) ?? 0) + 1);
      }
    }),
  );
  const loadCpu = meter();
  const sent = feed ? await feed.stop() : 0;

  const rows = CHOSEN.map((r) => {
    const s = [...times.get(r.name)!].sort((a, b) => a - b);
    return `${r.name.padEnd(22)} ${(s.length / SECONDS).toFixed(1).padStart(8)} req/s  p50 ${pct(s, 0.5).toFixed(0).padStart(6)} ms  p99 ${pct(
      s,
      0.99,
    )
      .toFixed(0)
      .padStart(6)} ms  errors ${[...errors.get(r.name)!.values()].reduce((a, b) => a + b, 0)}${
      errors.get(r.name)!.size ? ` (${[...errors.get(r.name)!].map(([c, n]) => `${c || 'no answer'}: ${n}`).join(', ')})` : ''
    }`;
  });
  const all = [...times.values()].flat().sort((a, b) => a - b);
  rows.push(
    `${'all routes'.padEnd(22)} ${(all.length / SECONDS).toFixed(1).padStart(8)} req/s  p50 ${pct(all, 0.5).toFixed(0).padStart(6)} ms  p99 ${pct(all, 0.99).toFixed(0).padStart(6)} ms`,
  );
  if (feed) rows.push(`ingest offered: ${(sent / SECONDS).toFixed(0)} events/s`);
  // Where the machine's cores went while the users asked.
  for (const [name, pct] of loadCpu.sort((a, b) => b[1] - a[1]))
    rows.push(`CPU under load ${name.padEnd(32)} ${pct.toFixed(0).padStart(4)} % of a core`);

  if (IDLE_SECONDS > 0) {
    // Nothing asks, nothing arrives: what the explorer and Neo4j cost on their own (background figures, journey step).
    // Idle is the steady state: the journey step has taken the ingest in, and the explorer's delivery figures
    // found the graph unchanged once (the reading of the changed graph and its round are behind).
    log('waiting for the ingest to be taken in and the explorer to find the graph unchanged (at most 5 minutes)');
    await modelSettled(status, 300_000);
    const reused = async (): Promise<number> => {
      const text = await (await fetch(`${status.explorer.url}/metrics`)).text();
      return Number(/^traces_explorer_delivery_metrics_reused_total (\S+)$/m.exec(text)?.[1] ?? NaN);
    };
    const first = await reused();
    for (const until = Date.now() + 300_000; Date.now() < until && !((await reused()) > first);)
      await new Promise((r) => setTimeout(r, 2000));
    log(`sampling idle CPU for ${IDLE_SECONDS} s`);
    const idle = cpuMeter(status.stateDir);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const used = new Map(idle());
    for (const k of ['explorer', 'neo4j', 'correlator'])
      rows.push(`idle CPU ${k.padEnd(11)} ${(used.get(k) ?? NaN).toFixed(1)} % of a core`);
  }
  process.stdout.write(rows.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:explorer failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
