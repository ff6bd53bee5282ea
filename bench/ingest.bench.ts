/**
 * Ingest benchmark (`npm run bench:ingest`): against the local mesh
 * (deploy/local/mesh.yaml, started if needed), measures
 *   (a) the raw ceiling: parsed events written straight to Neo4j in batches, no broker;
 *   (b) the full path: events published at two sites, through the shovels, the
 *       correlator and Neo4j — sustained events/s for a burst, and publish→commit
 *       latency at a fixed offered load.
 * Prints a table and the ratio (b)/(a), and where the CPU went in each phase (CPU seconds per 1,000
 * events of every process of the mesh, read from /proc: a share that holds on a busy machine, where
 * rates do not). Not a test: figures depend on the machine.
 *
 *   --events=20000 --batch=1000   burst size and raw-ceiling batch size
 *   --rate=500 --seconds=20       offered load for the latency figure
 *   --warmup=10000                events written first and not counted (a fresh Neo4j warms up)
 *   --writers=1                   concurrent write transactions for the raw ceiling
 *   --with-explorer               keep the explorer running (its background delivery
 *                                 figures compete for Neo4j); by default it is stopped
 *                                 for the measurement and started again after
 *   --correlators=2               also measure the full path with this many correlators (the mesh's
 *                                 own plus extra processes on the same config, competing consumers
 *                                 of not.ingest), and report it beside the one-correlator figure
 *   --shape=realistic             what is written (libs/events/src/synthetic-stream.ts): every
 *                                 change with its own commits, builds, artifacts and tests across two sites,
 *                                 work items shared by a few changes, 5 % of changes with an event sent
 *                                 before its parents; --shape=reference repeats the reference stream's
 *                                 shape with fresh ids (the figures of earlier reports)
 *   --sizes=0,250000,1000000      measure at several graph sizes: before each, the graph is grown with
 *                                 realistic events written straight to Neo4j until it holds that many
 *                                 events (progress on stderr), so a fall with growth shows
 *   --profile                     instead of the measurements: PROFILE every statement of one batch of
 *                                 --batch events (rolled back, nothing kept) on the graph as it is, and
 *                                 print what each cost on the server (rows, db hits, page-cache misses, ms)
 *   --limit                       also measure Neo4j's physical limit for the same batches: the same
 *                                 number of nodes and relationships with the same properties, written
 *                                 with the simplest UNWIND … CREATE (removed afterwards)
 *   --replay                      also replay the full-path burst from the archive stream (what
 *                                 `traces replay` does: the events are already in the graph, so each
 *                                 is a redelivery) and report the rate until the correlator has taken them
 *   --archive=1000000             instead of the measurements: replay at scale. Publishes that many
 *                                 realistic events to the central exchange with site routing keys (as
 *                                 the shovels deliver them; a backlog of at most 100,000 in not.ingest),
 *                                 reports the rate the correlator drains them at (new events, as a
 *                                 replay into an empty graph takes them), then replays them all from the
 *                                 archive stream (redeliveries, as `traces replay` over a graph that has
 *                                 them) and reports that rate and the time for all of them
 *   --config=<mesh.yaml>          another mesh
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMessage, realisticChanges, siteRoutingKey } from '@not/events';

import { toBatchRows, type StoredEvent } from '@not/graph';
import { loadMesh, Mesh, publishToSite, type MeshStatus } from '@not/mesh';
import { meshGraph } from './mesh-graph.js';
import { publishConfirmed, replayArchive } from '@not/messaging';
import neo4j, { type Driver } from 'neo4j-driver';
import { parse, stringify } from 'yaml';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const BURST = Number(args.get('events') ?? 20_000);
const RATE = Number(args.get('rate') ?? 500);
const RATE_SECONDS = Number(args.get('seconds') ?? 20);
const BATCH = Number(args.get('batch') ?? 1000);
const WARMUP = Number(args.get('warmup') ?? 10_000);
const WRITERS = Number(args.get('writers') ?? 1);
const KEEP_EXPLORER = args.has('with-explorer');
const CORRELATORS = Number(args.get('correlators') ?? 1);
if (!Number.isInteger(CORRELATORS) || CORRELATORS < 1) throw new Error('--correlators must be a whole number of at least 1');
const PROFILE = args.has('profile');
const LIMIT = args.has('limit');
const REPLAY = args.has('replay');
const ARCHIVE = args.has('archive') ? Number(args.get('archive')) : undefined;
if (ARCHIVE !== undefined && (!Number.isInteger(ARCHIVE) || ARCHIVE < 1)) throw new Error('--archive takes a whole number of events');
const SHAPE = args.get('shape') ?? 'realistic';
if (SHAPE !== 'realistic' && SHAPE !== 'reference') throw new Error('--shape must be realistic or reference');
const SIZES = (args.get('sizes') ?? '')
  .split(',')
  .filter(Boolean)
  .map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--sizes takes whole numbers of events, got "${x}"`);
    return v;
  });

type Raw = { meta: { id: string; time: number; type: string }; links: Array<{ type: string; target: string }>; site?: number };
const reference = JSON.parse(
  readFileSync(join(process.env.NOT_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'fixtures', 'eiffel', 'reference-50.json'), 'utf8'),
) as Raw[];

/** The realistic stream of this run: each call continues where the last one stopped. */
const seed = randomUUID().slice(0, 8);
let nextChange = 0;
let carried: Raw[] = [];
function realistic(n: number): Raw[] {
  while (carried.length < n) {
    for (const e of realisticChanges({ seed }, nextChange, 20)) carried.push({ ...e.event, site: e.site });
    nextChange += 20;
  }
  const out = carried.slice(0, n);
  carried = carried.slice(n);
  return out;
}

/** n fresh events of the chosen shape. */
function generate(n: number): Raw[] {
  return SHAPE === 'realistic' ? realistic(n) : referenceShaped(n);
}

/** n fresh events shaped like the reference stream, with links kept inside the generated set. */
function referenceShaped(n: number, timeMs = () => Date.now()): Raw[] {
  const out: Raw[] = [];
  const idMap = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const src = reference[i % reference.length]!;
    if (i % reference.length === 0) idMap.clear();
    const id = randomUUID();
    idMap.set(src.meta.id, id);
    out.push({
      ...src,
      meta: { ...src.meta, id, time: timeMs() },
      links: src.links.map((l) => ({ ...l, target: idMap.get(l.target) ?? randomUUID() })),
    });
  }
  return out;
}

/** The event as a tool sends it (without the generator's site tag). */
function body(e: Raw): Buffer {
  const { site: _site, ...event } = e;
  return Buffer.from(JSON.stringify(event));
}

/** Publishes events at the sites the generator gave them (reference-shaped: half at each of the first two). */
async function publishSpread(status: MeshStatus, events: readonly Raw[]): Promise<void> {
  const bySite = new Map<string, Buffer[]>();
  events.forEach((e, i) => {
    const site = status.sites[(e.site ?? (i < events.length / 2 ? 0 : 1)) % status.sites.length]!.id;
    bySite.set(site, [...(bySite.get(site) ?? []), body(e)]);
  });
  await Promise.all([...bySite].map(([site, bodies]) => publishToSite(status, site, 'ci', bodies)));
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Which of `ids` are in the graph (not as placeholders). */
async function foundIds(d: Driver, ids: readonly string[]): Promise<string[]> {
  const r = await d.executeQuery(
    'UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN e.id AS id',
    { ids },
    { database: 'neo4j' },
  );
  return r.records.map((x) => x.get('id') as string);
}

/** n fresh events, parsed as the correlator parses them, each with the body it came in (the graph keeps it). */
function parsed(n: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (const e of generate(n)) {
    const b = body(e);
    const r = parseMessage({ body: b, headers: {}, routingKey: `site.bench${e.site ?? 0}.ci.eiffel` });
    if (r.ok) events.push(...r.events.map((x) => ({ ...x, raw: b.toString('utf8') })));
  }
  return events;
}

/** PROFILE of every statement of one batch on the graph as it is (rolled back). */
async function profile(status: MeshStatus): Promise<void> {
  const graph = meshGraph(status);
  try {
    // The first run plans and compiles the statements; the second is the one reported.
    await graph.profileWrite(parsed(BATCH));
    const rows = await graph.profileWrite(parsed(BATCH));
    process.stdout.write(`\n## one batch of ${BATCH} events on a graph of ${await graphSize(status)} events\n`);
    const w = Math.max(...rows.map((r) => r.statement.length));
    process.stdout.write(
      `${'statement'.padEnd(w)}  ${'rows'.padStart(6)}  ${'db hits'.padStart(9)}  ${'misses'.padStart(7)}  ${'ms'.padStart(6)}  top operators\n`,
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.statement.padEnd(w)}  ${String(r.rows).padStart(6)}  ${String(r.dbHits).padStart(9)}  ${String(r.pageCacheMisses).padStart(7)}  ${String(r.ms).padStart(6)}  ${r.top.join(', ')}\n`,
      );
    }
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
    process.stdout.write(
      `${'total'.padEnd(w)}  ${''.padStart(6)}  ${String(sum((r) => r.dbHits)).padStart(9)}  ${String(sum((r) => r.pageCacheMisses)).padStart(7)}  ${String(sum((r) => r.ms)).padStart(6)}\n`,
    );
  } finally {
    await graph.onModuleDestroy();
  }
}

/**
 * Neo4j's physical limit for these batches: as many nodes (events, link targets, entities, alias nodes) and
 * relationships (links, ABOUT, ALIAS_OF, entity relations) as the write path makes, with the same
 * properties, written with the simplest UNWIND … CREATE under a label nothing else reads; removed after.
 */
async function physicalLimit(status: MeshStatus, cpu: CpuLedger, n = BURST): Promise<{ rate: number; nodes: number; rels: number }> {
  const d = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
  const db = { database: 'neo4j' };
  await d.executeQuery('CREATE INDEX bench_limit_id IF NOT EXISTS FOR (n:BenchLimit) ON (n.id)', {}, db);
  await d.executeQuery('CALL db.awaitIndexes(300)', {}, db);
  const events = parsed(n);
  let nodes = 0;
  let rels = 0;
  const batches: Array<{ nodes: Array<{ id: string; props: unknown }>; rels: Array<{ a: string; b: string }> }> = [];
  for (let i = 0; i < events.length; i += BATCH) {
    const rows = toBatchRows(events.slice(i, i + BATCH));
    const raw = new Map(rows.raws.map((r) => [r.id as string, r.raw]));
    const ns: Array<{ id: string; props: unknown }> = rows.events.map((e) => ({
      id: e.id as string,
      props: { ...(e.props as Record<string, unknown>), hash: e.hash, time: e.time, raw: raw.get(e.id as string) ?? null },
    }));
    const rs: Array<{ a: string; b: string }> = [];
    const known = new Set(ns.map((x) => x.id));
    const node = (id: string, props: unknown = {}): void => {
      if (known.has(id)) return;
      known.add(id);
      ns.push({ id, props });
    };
    for (const l of rows.links) {
      node(l.to as string);
      rs.push({ a: l.from as string, b: l.to as string });
    }
    for (const [label, list] of rows.entities) {
      for (const r of list) {
        const id = `${label}|${r.key as string}`;
        node(id, r.props);
        for (const ab of r.about as unknown as Array<{ event: string }>) rs.push({ a: ab.event, b: id });
      }
    }
    for (const [label, list] of rows.aliased) {
      for (const r of list) {
        const id = `${label}|${r.keys[0]!}`;
        node(id, r.props);
        for (const alias of r.ids) {
          const aid = `alias:${alias}`;
          node(aid);
          rs.push({ a: aid, b: id });
        }
        for (const ab of r.about) rs.push({ a: ab.event, b: id });
      }
    }
    for (const [k, list] of rows.relations) {
      const [from, , to] = k.split('|') as [string, string, string];
      for (const r of list) {
        const a = `${from}|${r.from as string}`;
        const b = `${to}|${r.to as string}`;
        for (const x of [a, b]) node(x);
        rs.push({ a, b });
      }
    }
    nodes += ns.length;
    rels += rs.length;
    batches.push({ nodes: ns, rels: rs });
  }
  const t0 = performance.now();
  await cpu.measure(
    'physical limit',
    () => events.length,
    async () => {
      for (const b of batches) {
        const s = d.session(db);
        try {
          await s.executeWrite(async (tx) => {
            await tx.run('UNWIND $nodes AS n CREATE (x:BenchLimit {id: n.id}) SET x += n.props', { nodes: b.nodes });
            await tx.run('UNWIND $rels AS r MATCH (a:BenchLimit {id: r.a}) MATCH (b:BenchLimit {id: r.b}) CREATE (a)-[:BENCH_LIMIT]->(b)', {
              rels: b.rels,
            });
          });
        } finally {
          await s.close();
        }
      }
    },
  );
  const rate = events.length / ((performance.now() - t0) / 1000);
  // CALL … IN TRANSACTIONS needs an auto-commit transaction.
  const cleanup = d.session(db);
  try {
    await cleanup.run('MATCH (x:BenchLimit) CALL (x) { DETACH DELETE x } IN TRANSACTIONS OF 5000 ROWS');
  } finally {
    await cleanup.close();
  }
  await d.executeQuery('DROP INDEX bench_limit_id IF EXISTS', {}, db);
  await d.close();
  return { rate, nodes, rels };
}

/**
 * Waits until the correlator's journey step has caught up (nothing pending, nothing dirty); the seconds
 * it waited. Each phase starts on a settled model, so none measures the last one's backlog.
 */
async function journeysSettled(status: MeshStatus): Promise<number> {
  const d = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
  const t0 = performance.now();
  try {
    for (;;) {
      const r = await d.executeQuery(
        'RETURN EXISTS { MATCH (:JourneyPending) } OR EXISTS { MATCH (:JourneyDirty) } AS busy',
        {},
        { database: 'neo4j' },
      );
      if (!r.records[0]!.get('busy')) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > 3_600_000) throw new Error('the journey step did not catch up within an hour');
      await new Promise((res) => setTimeout(res, 250));
    }
  } finally {
    await d.close();
  }
}

async function rawCeiling(status: MeshStatus, n = BURST): Promise<number> {
  const graph = meshGraph(status);
  const events = parsed(n);
  const t0 = performance.now();
  const batches: StoredEvent[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let b = batches.shift(); b; b = batches.shift()) await graph.writeEvents(b);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  await graph.onModuleDestroy();
  return events.length / s;
}

/** The mesh's processes (Linux): the apps and Neo4j from the mesh's state, the RabbitMQ nodes by their node names. */
function meshProcesses(status: MeshStatus): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const state = JSON.parse(readFileSync(join(status.stateDir, 'state.json'), 'utf8')) as { pids?: Record<string, number> };
    for (const [name, pid] of Object.entries(state.pids ?? {})) if (name !== 'prometheus') out.set(name, pid);
    // RabbitMQ nodes are named after the mesh's state folder: `<prefix>-central@host`, `<prefix>-<site>@host`.
    const prefix = status.central.nodes[0]!.nodeName.replace(/-central(-\d+)?@.*$/, '-');
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        // The Erlang VM itself, not the scripts that started it (they carry the same environment).
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'beam.smp') continue;
        const m = /RABBITMQ_NODENAME=([^@\0]+)@/.exec(readFileSync(`/proc/${pid}/environ`, 'latin1'));
        if (m && m[1]!.startsWith(prefix)) out.set(`rabbitmq ${m[1]!.slice(prefix.length)}`, Number(pid));
      } catch {
        // a process that ended, or not ours to read
      }
    }
    out.set('this benchmark', process.pid);
  } catch {
    // no /proc (not Linux): no CPU figures
  }
  return out;
}

/** CPU seconds (user + system) each process has used so far. */
function cpuSeconds(procs: ReadonlyMap<string, number>): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const out = new Map<string, number>();
  for (const [name, pid] of procs) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(name, (Number(f[11]) + Number(f[12])) / tick);
    } catch {
      // gone
    }
  }
  return out;
}

/** Measures the CPU each process spends in `fn`, as seconds per 1,000 events of `events`. */
class CpuLedger {
  readonly phases: Array<{ phase: string; perK: Map<string, number> }> = [];
  constructor(private readonly procs: ReadonlyMap<string, number>) {}
  async measure<T>(phase: string, events: () => number, fn: () => Promise<T>): Promise<T> {
    const before = cpuSeconds(this.procs);
    const out = await fn();
    const after = cpuSeconds(this.procs);
    const perK = new Map<string, number>();
    for (const [name, s] of after) perK.set(name, ((s - (before.get(name) ?? s)) / events()) * 1000);
    this.phases.push({ phase, perK });
    return out;
  }
  print(): void {
    if (!this.phases.length || !this.procs.size) return;
    const names = [...this.procs.keys()];
    const w = Math.max(...this.phases.map((p) => p.phase.length), 5);
    process.stdout.write(
      `\nCPU seconds per 1,000 events, by process\n${'phase'.padEnd(w)}  ${names.map((n) => n.padStart(Math.max(8, n.length))).join('  ')}  ${'total'.padStart(6)}\n`,
    );
    for (const p of this.phases) {
      const cells = names.map((n) => (p.perK.get(n) ?? 0).toFixed(2).padStart(Math.max(8, n.length)));
      const total = [...p.perK.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(`${p.phase.padEnd(w)}  ${cells.join('  ')}  ${total.toFixed(2).padStart(6)}\n`);
    }
  }
}

/** Events the correlator has accepted since it started (its own counter). */
async function accepted(status: MeshStatus): Promise<number> {
  const text = await (await fetch(`${status.correlator.url}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('traces_correlator_events_total{') && line.includes('result="accepted"')) n += Number(line.split(' ').pop());
  }
  return n;
}

/**
 * Replays the archive stream between two times into the ingest queue (as `traces replay` does) and waits
 * until the correlator has taken every replayed message; the rate over the whole of it.
 */
async function replayWindow(status: MeshStatus, from: Date, to: Date): Promise<{ messages: number; rate: number }> {
  const before = await accepted(status);
  const t0 = performance.now();
  const idleMs = 1000;
  const r = await replayArchive({ url: status.central.amqp, from, to, idleMs });
  for (;;) {
    if ((await accepted(status)) - before >= r.replayed) break;
    if (performance.now() - t0 > 3_600_000) throw new Error('the replay was not taken up within an hour');
    await new Promise((res) => setTimeout(res, 250));
  }
  // The replay stops when the stream has been quiet for idleMs: not part of the work.
  return { messages: r.replayed, rate: r.replayed / ((performance.now() - t0 - idleMs) / 1000) };
}

async function fullPathBurst(status: MeshStatus): Promise<number> {
  const events = generate(BURST);
  const ids = events.map((e) => e.meta.id);
  const t0 = performance.now();
  await publishSpread(status, events);
  // Only the events not seen yet are looked for again: the poll must not load Neo4j it measures.
  let waiting = ids;
  const d = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
  try {
    for (;;) {
      const found = new Set(await foundIds(d, waiting));
      waiting = waiting.filter((id) => !found.has(id));
      if (!waiting.length) break;
      if (performance.now() - t0 > 600_000)
        throw new Error(`only ${ids.length - waiting.length} of ${ids.length} arrived within 10 minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await d.close();
  }
  return events.length / ((performance.now() - t0) / 1000);
}

/** Offers RATE events/s for RATE_SECONDS; latency = commit seen minus publish time, per event (polled every 100 ms). */
async function latencyAtRate(status: MeshStatus): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const published = new Map<string, number>();
  const committed = new Map<string, number>();
  const d = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
  let done = false;
  const poller = (async () => {
    while (!done || committed.size < published.size) {
      const pending = [...published.keys()].filter((id) => !committed.has(id));
      if (pending.length) {
        const r = await d.executeQuery(
          'UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN e.id AS id',
          { ids: pending },
          { database: 'neo4j' },
        );
        const now = performance.now();
        for (const rec of r.records) committed.set(rec.get('id') as string, now);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const start = performance.now();
  let tick = 0;
  while (performance.now() - start < RATE_SECONDS * 1000) {
    const batch = generate(perTick);
    const at = performance.now();
    await publishSpread(status, batch);
    for (const e of batch) published.set(e.meta.id, at);
    tick++;
    const next = start + tick * tickMs;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  done = true;
  await poller;
  await d.close();
  const lat = [...published].map(([id, t]) => (committed.get(id)! - t) / 1000).sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1]!, n: lat.length };
}

async function main(): Promise<void> {
  const mesh = new Mesh(loadMesh(args.get('config') ?? 'deploy/local/mesh.yaml'), (m) => process.stderr.write(`• ${m}\n`));
  let status = await mesh.status();
  if (!status.correlator.up || !status.neo4j.up) status = await mesh.up();
  // The explorer is not on the ingest path; its background delivery figures (and anyone's queries)
  // compete with it for Neo4j. Stopped for the measurement unless --with-explorer, started again after.
  const explorerWasUp = status.explorer.up;
  if (explorerWasUp && !KEEP_EXPLORER) {
    process.stderr.write('• stopping the explorer for the measurement (--with-explorer keeps it)\n');
    await mesh.stopApp('explorer');
  }
  try {
    await measure(mesh, status);
  } finally {
    if (explorerWasUp && !KEEP_EXPLORER) await mesh.startAppByName('explorer');
  }
  process.exit(0);
}

/**
 * Starts `n` more correlators on the mesh correlator's own config (another HTTP port each), waits until
 * they are ready, and returns a function that stops them.
 */
async function extraCorrelators(mesh: Mesh, n: number): Promise<() => Promise<void>> {
  const base = parse(readFileSync(mesh.configFile('correlator'), 'utf8')) as { http: { port: number } };
  const dir = mkdtempSync(join(tmpdir(), 'bench-correlators-'));
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('close', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (let k = 1; k <= n; k++) {
      const port = base.http.port + 100 + k;
      const file = join(dir, `correlator-${k}.yaml`);
      writeFileSync(file, stringify({ ...base, http: { ...base.http, port } }), { mode: 0o600 });
      const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'apps', 'correlator', 'src', 'main.js'), '--config', file], {
        stdio: 'ignore',
      });
      children.push(child);
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`extra correlator ${k} exited with ${child.exitCode}`);
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        if (Date.now() > deadline) throw new Error(`extra correlator ${k} (port ${port}) was not ready within 90 s`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/** Events in the graph now. */
async function graphSize(status: MeshStatus): Promise<number> {
  const d = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
  try {
    const r = await d.executeQuery('MATCH (e:Event) RETURN count(e) AS n', {}, { database: 'neo4j' });
    return (r.records[0]!.get('n') as { toNumber(): number }).toNumber();
  } finally {
    await d.close();
  }
}

/** Grows the graph with realistic events written straight to Neo4j until it holds `target` events. */
async function grow(status: MeshStatus, target: number): Promise<void> {
  let have = await graphSize(status);
  if (have >= target) {
    process.stderr.write(`• the graph holds ${have} events (≥ ${target})\n`);
    return;
  }
  process.stderr.write(`• growing the graph from ${have} to ${target} events (realistic shape, straight to Neo4j)\n`);
  const t0 = performance.now();
  const start = have;
  while (have < target) {
    const n = Math.min(50_000, target - have);
    await rawCeiling(status, n);
    have = await graphSize(status);
    const rate = (have - start) / ((performance.now() - t0) / 1000);
    process.stderr.write(`•   ${have} events (${rate.toFixed(0)} events/s so far)\n`);
  }
}

/**
 * Replay at scale (--archive=N): N realistic events put on the central exchange as the site shovels would
 * (the central admin's credentials, each event under its site's routing key), drained by the correlator
 * from a backlog; then all of them replayed from the archive stream.
 */
async function archiveReplay(status: MeshStatus, n: number): Promise<void> {
  const cpu = new CpuLedger(meshProcesses(status));
  const backlog = 100_000;
  const chunk = 10_000;
  await journeysSettled(status);
  process.stderr.write(`• archive: ${n} events to ${status.central.exchange} at central, at most ${backlog} waiting in not.ingest\n`);
  const from = new Date(Date.now() - 1000);
  const before = await accepted(status);
  const t0 = performance.now();
  const drain = await cpu.measure(
    'first ingest from not.ingest',
    () => n,
    async () => {
      let published = 0;
      let lastReport = 0;
      while (published < n) {
        const taken = (await accepted(status)) - before;
        if (published - taken >= backlog) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        const events = generate(Math.min(chunk, n - published));
        await publishConfirmed(
          status.central.amqp,
          status.central.exchange,
          events.map((e) => ({
            body: body(e),
            routingKey: siteRoutingKey(status.sites[(e.site ?? 0) % status.sites.length]!.id, 'ci', 'eiffel'),
          })),
        );
        published += events.length;
        if (taken - lastReport >= 100_000) {
          lastReport = taken;
          const s = (performance.now() - t0) / 1000;
          process.stderr.write(`•   ${taken} taken in by the correlator (${(taken / s).toFixed(0)} events/s so far)\n`);
        }
      }
      while ((await accepted(status)) - before < n) await new Promise((r) => setTimeout(r, 250));
      return n / ((performance.now() - t0) / 1000);
    },
  );
  const to = new Date(Date.now() + 1000);
  const lag = await cpu.measure(
    'journeys after it',
    () => n,
    () => journeysSettled(status),
  );
  process.stderr.write(`• replay: the ${n} events again from the archive stream\n`);
  const r0 = performance.now();
  const replay = await cpu.measure(
    'replay (redeliveries)',
    () => n,
    () => replayWindow(status, from, to),
  );
  const replaySeconds = (performance.now() - r0) / 1000;
  process.stdout.write(`\n## replay at scale: ${n} events (${SHAPE} shape), graph of ${await graphSize(status)} events after\n`);
  const rows = [
    ['first ingest: correlator draining not.ingest (new events)', `${drain.toFixed(0)} events/s (${(n / drain / 60).toFixed(1)} min)`],
    ['journeys up to date after the last of them', `${lag.toFixed(1)} s`],
    [
      `replay from the archive: ${replay.messages} messages (redeliveries)`,
      `${replay.rate.toFixed(0)} events/s (${(replaySeconds / 60).toFixed(1)} min from start to the last taken in)`,
    ],
  ];
  const w = Math.max(...rows.map((x) => x[0]!.length));
  for (const [k, v] of rows) process.stdout.write(`${k!.padEnd(w)}  ${v}\n`);
  cpu.print();
  process.stdout.write(`\nreproduce: npm run bench:ingest -- --archive=${n} --shape=${SHAPE}\n`);
}

async function measure(mesh: Mesh, status: MeshStatus): Promise<void> {
  if (ARCHIVE !== undefined) return archiveReplay(status, ARCHIVE);
  if (!SIZES.length) return PROFILE ? profile(status) : measureOnce(mesh, status, true);
  for (const size of SIZES) {
    await grow(status, size);
    if (PROFILE) {
      await profile(status);
      continue;
    }
    process.stdout.write(`\n## graph of ${await graphSize(status)} events (${SHAPE} shape)\n`);
    await measureOnce(mesh, status, size === SIZES[0]);
  }
}

async function measureOnce(mesh: Mesh, status: MeshStatus, warm: boolean): Promise<void> {
  if (WARMUP > 0 && warm) {
    // A fresh Neo4j compiles its queries and warms its JIT on the first thousands of writes.
    process.stderr.write(`• warm-up: ${WARMUP} events straight to Neo4j, not counted\n`);
    await rawCeiling(status, WARMUP);
  }
  await journeysSettled(status);
  const cpu = new CpuLedger(meshProcesses(status));
  process.stderr.write(`• raw ceiling: writing ${BURST} parsed events straight to Neo4j in batches of ${BATCH}, ${WRITERS} writer(s)\n`);
  // The correlator's journey step takes the new events up after their write (it runs while they are written).
  const raw = await cpu.measure(
    'raw write (journeys too)',
    () => BURST,
    () => rawCeiling(status),
  );
  const rawSeconds = BURST / raw;
  const lag = await cpu.measure(
    'journeys after it',
    () => BURST,
    () => journeysSettled(status),
  );
  const withJourneys = BURST / (rawSeconds + lag);
  await journeysSettled(status);
  process.stderr.write(`• full path: ${BURST} events published at two sites as fast as confirms allow\n`);
  const burstFrom = new Date(Date.now() - 1000);
  const full = await cpu.measure(
    'full path',
    () => BURST,
    () => fullPathBurst(status),
  );
  const burstTo = new Date(Date.now() + 1000);
  const fullLag = await cpu.measure(
    'journeys after it',
    () => BURST,
    () => journeysSettled(status),
  );
  const fullWithJourneys = BURST / (BURST / full + fullLag);
  let replay: Awaited<ReturnType<typeof replayWindow>> | undefined;
  if (REPLAY) {
    process.stderr.write(`• replay: the burst again from the archive stream\n`);
    replay = await cpu.measure(
      'replay',
      () => replay?.messages ?? BURST,
      () => replayWindow(status, burstFrom, burstTo),
    );
  }
  let fullN: number | undefined;
  if (CORRELATORS > 1) {
    process.stderr.write(`• full path again with ${CORRELATORS} correlators consuming not.ingest\n`);
    const stop = await extraCorrelators(mesh, CORRELATORS - 1);
    try {
      fullN = await fullPathBurst(status);
    } finally {
      await stop();
    }
  }
  await journeysSettled(status);
  process.stderr.write(`• latency: ${RATE} events/s offered for ${RATE_SECONDS} s\n`);
  const lat = await latencyAtRate(status);
  // Last: removing its nodes and index afterwards makes Neo4j plan every query again.
  let limit: Awaited<ReturnType<typeof physicalLimit>> | undefined;
  if (LIMIT) {
    await journeysSettled(status);
    process.stderr.write(`• physical limit: the same nodes and relationships with UNWIND … CREATE\n`);
    limit = await physicalLimit(status, cpu);
  }
  const rows = [
    ['raw ceiling (driver, no broker)', `${raw.toFixed(0)} events/s`],
    ...(limit
      ? [
          [`physical limit (UNWIND … CREATE of ${limit.nodes} nodes, ${limit.rels} relationships)`, `${limit.rate.toFixed(0)} events/s`],
          ['raw ceiling / physical limit', `${((raw / limit.rate) * 100).toFixed(0)} %`],
        ]
      : []),
    ['raw ceiling, until the journeys are up to date', `${withJourneys.toFixed(0)} events/s (${lag.toFixed(1)} s after the last write)`],
    ['full path sustained (2 sites → shovels → correlator → Neo4j)', `${full.toFixed(0)} events/s`],
    [
      'full path, until the journeys are up to date',
      `${fullWithJourneys.toFixed(0)} events/s (${fullLag.toFixed(1)} s after the last commit)`,
    ],
    ['full path / raw ceiling', `${((full / raw) * 100).toFixed(0)} %`],
    ...(replay
      ? [[`replay of the burst from the archive (${replay.messages} messages, redeliveries)`, `${replay.rate.toFixed(0)} events/s`]]
      : []),
    ...(fullN === undefined
      ? []
      : [
          [`full path sustained with ${CORRELATORS} correlators`, `${fullN.toFixed(0)} events/s`],
          [`${CORRELATORS} correlators / 1 correlator`, `${((fullN / full) * 100).toFixed(0)} %`],
        ]),
    [`publish→commit at ${RATE}/s: p50`, `${(lat.p50 * 1000).toFixed(0)} ms`],
    [`publish→commit at ${RATE}/s: p99`, `${(lat.p99 * 1000).toFixed(0)} ms`],
    [`publish→commit at ${RATE}/s: max (n=${lat.n})`, `${(lat.max * 1000).toFixed(0)} ms`],
  ];
  const w = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) process.stdout.write(`${k!.padEnd(w)}  ${v}\n`);
  cpu.print();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
