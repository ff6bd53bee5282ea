/**
 * Query benchmark (`npm run bench:query`): grows a generated graph to each size
 * (default 10k, 100k and 1M events: multi-site Eiffel pipelines spread over a year,
 * plus one release of 10,000 commits, and a product of 20 components released twice with 500
 * commits of history each in between) straight through GraphRepository, and at
 * each size times the explorer's services in-process:
 *   trace-by-commit, release contents (10,000 commits), release history with its diff
 *   (`--product-components`, `--product-commits`), lead time over 30 days,
 *   and a 5-level upstream search.
 * Prints p50 / p95 per query and size. Not a test: figures depend on the machine.
 * `--shape=realistic` grows the graph with the realistic stream of @not/events instead of copies of
 * one test pipeline (the commits and releases asked about are then samples of that stream).
 *
 *   npm run bench:query -- --config=deploy/local/mesh.yaml --sizes=10000,100000,1000000 --samples=200
 *
 * What it generated is recorded in `<stateDir>/bench-query.json`; `--reuse` times the
 * queries again on that graph (growing it only where a size asks for more), so a
 * change to the queries can be measured before and after on the same data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, realisticChanges, type TraceEvent } from '@not/events';
import {
  DeliveryReads,
  EntityReads,
  EventReads,
  EventSearchReads,
  GraphRepository,
  HistoryReads,
  Journeys,
  RawEventReads,
  WalkReads,
} from '@not/graph';
import { loadMesh, Mesh } from '@not/mesh';
import { EiffelService } from '../apps/explorer/src/eiffel.service.js';
import { explorerConfigSchema } from '../apps/explorer/src/explorer.config.js';
import { LeadTimeService } from '../apps/explorer/src/lead-time.service.js';
import { ReleaseService } from '../apps/explorer/src/release.service.js';
import { eiffelPipeline, type Pipeline } from '../apps/explorer/src/testing/eiffel-pipeline.js';
import { TraceService } from '../apps/explorer/src/trace.service.js';
import { WalkService } from '../apps/explorer/src/walk.service.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SIZES = (args.get('sizes') ?? '10000,100000,1000000').split(',').map(Number);
const SAMPLES = Number(args.get('samples') ?? 200);
const SLOW_SAMPLES = Number(args.get('slow-samples') ?? 5);
const RELEASE_COMMITS = Number(args.get('release-commits') ?? 10_000);
const PRODUCT_COMPONENTS = Number(args.get('product-components') ?? 20);
const PRODUCT_COMMITS = Number(args.get('product-commits') ?? 500);
const BATCH = Number(args.get('batch') ?? 2000);
const YEAR = Date.UTC(2027, 0, 1);
const DAY = 86_400_000;

const REUSE = args.has('reuse');
/**
 * `pipelines` (default, the shape issue 6's figures were measured on): copies of one five-commit test
 * pipeline; `realistic`: `realisticChanges` from @not/events (many repositories and areas, patch sets,
 * failed and repeated builds, releases now and then, shared work items, events sent early), spread over
 * the year so that the largest size fills it.
 */
const SHAPE = args.get('shape') ?? 'pipelines';
if (SHAPE !== 'pipelines' && SHAPE !== 'realistic') throw new Error(`--shape must be pipelines or realistic, not "${SHAPE}"`);
/** Events per change of the realistic stream, about: to spread the largest size over the year. */
const REALISTIC_EVENTS_PER_CHANGE = 16;

/** What a run generated, enough to rebuild its pipelines without writing them again. */
interface BenchRecord {
  run: string;
  big: string | null;
  /** The generated product ({@link product}), when one was written. */
  product?: string | null;
  /** With `--shape=realistic`: the next change of the stream, and samples of its commits and releases' events. */
  realistic?: { next: number; commits: string[]; releaseEvents: string[] };
  written: number;
  pipelines: Array<[string, number]>;
}

let run = randomBytes(3).toString('hex');
const log = (m: string): void => void process.stderr.write(`• ${m}\n`);

function parse(site: string, event: unknown): TraceEvent[] {
  const r = parseMessage(
    { body: Buffer.from(JSON.stringify(event)), headers: {}, routingKey: `site.${site}.ci.eiffel` },
    { eiffelSchema: 'warn' },
  );
  if (!r.ok) throw new Error(`generated event rejected: ${r.rejection.reason}`);
  return [...r.events];
}

/** A generated event's id, the same for the same run and name. */
function id(k: string): string {
  const h = createHash('sha256').update(`${run}:${k}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function meta(type: string, version: string, k: string, ms: number) {
  return { id: id(k), type, version, time: ms, source: { domainId: 'bench' } };
}

/**
 * A product the way a product owner has one: `components` repositories, each with a linear history told
 * by Eiffel source-change submissions (each links the one before as `PREVIOUS_VERSION`), released
 * `releases` times. Every release builds each component from its newest commit, so release r holds
 * `perRelease` commits of each component's history since release r-1.
 */
function product(
  components: number,
  perRelease: number,
  releases: number,
): { events: Array<{ site: string; event: unknown }>; name: string } {
  const name = `bench-${run}-product`;
  const events: Array<{ site: string; event: unknown }> = [];
  const t = YEAR + 210 * DAY;
  for (let r = 1; r <= releases; r++) {
    const elements: Array<{ type: string; target: string }> = [];
    for (let c = 0; c < components; c++) {
      const repoUri = `https://git.example.com/bench/${name}-c${c}.git`;
      for (let j = (r - 1) * perRelease; j < r * perRelease; j++) {
        const commitId = createHash('sha1').update(`${run}:p:${c}:${j}`).digest('hex');
        events.push({
          site: 'site-a',
          event: {
            meta: meta('EiffelSourceChangeSubmittedEvent', '4.0.1', `p${c}s${j}`, t + j * 60_000 + c),
            data: { gitIdentifier: { commitId, repoUri, branch: 'main' } },
            links: j ? [{ type: 'PREVIOUS_VERSION', target: id(`p${c}s${j - 1}`) }] : [],
          },
        });
      }
      const at = t + r * perRelease * 60_000 + c;
      events.push({
        site: 'site-a',
        event: {
          meta: meta('EiffelActivityTriggeredEvent', '5.0.1', `p${c}b${r}`, at),
          data: { name: `build c${c}` },
          links: [{ type: 'CAUSE', target: id(`p${c}s${r * perRelease - 1}`) }],
        },
      });
      const digest = createHash('sha256').update(`${run}:p:${c}:art:${r}`).digest('hex');
      events.push({
        site: 'site-a',
        event: {
          meta: meta('EiffelArtifactCreatedEvent', '4.0.2', `p${c}a${r}`, at + 1000),
          data: {
            identity: `pkg:maven/com.bench/${name}-c${c}@${r}.0`,
            fileInformation: [{ name: 'x.jar', integrityProtection: { alg: 'SHA-256', digest } }],
          },
          links: [{ type: 'CONTEXT', target: id(`p${c}b${r}`) }],
        },
      });
      elements.push({ type: 'ELEMENT', target: id(`p${c}a${r}`) });
    }
    events.push({
      site: 'site-b',
      event: {
        meta: meta('EiffelCompositionDefinedEvent', '4.0.1', `p-cd${r}`, t + r * perRelease * 60_000 + 10_000),
        data: { name, version: String(r) },
        links: elements,
      },
    });
  }
  return { events, name };
}

/** A release of n commits: each commit → merge → build → artifact; one composition names every artifact. */
function bigRelease(n: number): { events: Array<{ site: string; event: unknown }>; product: string } {
  const product = `bench-${run}-big`;
  const events: Array<{ site: string; event: unknown }> = [];
  const t = YEAR + 200 * DAY;
  const elements: Array<{ type: string; target: string }> = [];
  for (let i = 0; i < n; i++) {
    const sha = createHash('sha1').update(`${run}:big:${i}`).digest('hex');
    const git = { commitId: sha, repoUri: `https://git.example.com/bench/${product}.git`, branch: `feature/BIG${run.toUpperCase()}-${i}` };
    events.push({
      site: 'site-a',
      event: { meta: meta('EiffelSourceChangeCreatedEvent', '5.0.1', `scc${i}`, t + i), data: { gitIdentifier: git }, links: [] },
    });
    events.push({
      site: 'site-a',
      event: {
        meta: meta('EiffelSourceChangeSubmittedEvent', '4.0.1', `scs${i}`, t + i + 1000),
        data: { gitIdentifier: { ...git, branch: 'main' } },
        links: [{ type: 'CHANGE', target: id(`scc${i}`) }],
      },
    });
    events.push({
      site: 'site-a',
      event: {
        meta: meta('EiffelActivityTriggeredEvent', '5.0.1', `act${i}`, t + i + 2000),
        data: { name: 'build' },
        links: [{ type: 'CAUSE', target: id(`scs${i}`) }],
      },
    });
    const hex = createHash('sha256').update(`${run}:big-art:${i}`).digest('hex');
    events.push({
      site: 'site-a',
      event: {
        meta: meta('EiffelArtifactCreatedEvent', '4.0.2', `art${i}`, t + i + 3000),
        data: {
          identity: `pkg:generic/big-${i}@1`,
          fileInformation: [{ name: 'x', integrityProtection: { alg: 'SHA-256', digest: hex } }],
        },
        links: [{ type: 'CONTEXT', target: id(`act${i}`) }],
      },
    });
    elements.push({ type: 'ELEMENT', target: id(`art${i}`) });
  }
  events.push({
    site: 'site-b',
    event: {
      meta: meta('EiffelCompositionDefinedEvent', '4.0.1', 'cd', t + n + 10_000),
      data: { name: product, version: '1' },
      links: elements,
    },
  });
  return { events, product };
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const p = (q: number): number => s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
  return `p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms (n=${s.length})`;
}

async function time(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  await fn(0); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i + 1);
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const mesh = new Mesh(loadMesh(args.get('config')), log);
  let status = await mesh.status();
  if (!status.neo4j.up) status = await mesh.up({ apps: false });
  const neo4jConfig = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
  const graph = new GraphRepository(neo4jConfig);
  await graph.verify();
  await graph.ensureSchema();
  const config = explorerConfigSchema.parse({ neo4j: neo4jConfig, http: { port: 1 }, auth: { tokens: ['bench-token-000000'] } });
  const [entities, events, search, walkReads] = [
    new EntityReads(graph),
    new EventReads(graph),
    new EventSearchReads(graph),
    new WalkReads(graph),
  ];
  const walker = new WalkService(walkReads, config);
  const journeys = new Journeys(graph, walkReads, () => config.limits);
  const traces = new TraceService(entities, events, walkReads, walker, journeys, config);
  const releases = new ReleaseService(entities, new HistoryReads(graph), walker, traces, config);
  const leadTimes = new LeadTimeService(search, new DeliveryReads(graph), walker, journeys, config);
  const eiffel = new EiffelService(events, search, new RawEventReads(graph), config);

  const pipelines: Pipeline[] = [];
  let written = 0;
  let big: { product: string } | undefined;
  let made: string | undefined;
  let realistic = { next: 0, commits: [] as string[], releaseEvents: [] as string[] };
  let sampled = 0;
  const spacingMs = (365 * DAY) / (Math.max(...SIZES) / REALISTIC_EVENTS_PER_CHANGE);
  const recordFile = join(status.stateDir, 'bench-query.json');
  if (REUSE) {
    if (!existsSync(recordFile)) throw new Error(`--reuse: ${recordFile} is missing; run once without --reuse to generate a graph`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as BenchRecord;
    run = record.run;
    written = record.written;
    if (record.big) big = { product: record.big };
    if (record.product) made = record.product;
    if (record.realistic) realistic = record.realistic;
    for (const [name, base] of record.pipelines) pipelines.push(eiffelPipeline(name, base));
    log(`reusing run ${run}: ${written} generated events, ${pipelines.length} pipelines${big ? `, release ${big.product}` : ''}`);
  }
  const save = (): void => {
    const record: BenchRecord = {
      run,
      big: big?.product ?? null,
      product: made ?? null,
      ...(SHAPE === 'realistic' ? { realistic } : {}),
      written,
      pipelines: pipelines.map((p) => [p.run, p.base]),
    };
    writeFileSync(recordFile, JSON.stringify(record));
  };
  let pending: TraceEvent[] = [];
  const growStart = Date.now();
  const grownFrom = written;
  const flush = async (): Promise<void> => {
    for (let i = 0; i < pending.length; i += BATCH) await graph.writeEvents(pending.slice(i, i + BATCH));
    written += pending.length;
    pending = [];
    // The journey read model, as the correlator would keep it (lead time reads it).
    await journeys.drain();
    save();
    const s = (Date.now() - growStart) / 1000;
    log(`  ${written} events written, journeys kept (${Math.round((written - grownFrom) / Math.max(s, 1))} events/s since the start)`);
  };
  const results: string[] = [];
  for (const size of SIZES) {
    const t0 = Date.now();
    if (!big && size >= RELEASE_COMMITS * 5) {
      const b = bigRelease(RELEASE_COMMITS);
      for (const e of b.events) pending.push(...parse(e.site, e.event));
      await flush();
      big = b;
    }
    if (!made && size >= PRODUCT_COMPONENTS * PRODUCT_COMMITS * 10) {
      const p = product(PRODUCT_COMPONENTS, PRODUCT_COMMITS, 2);
      for (const e of p.events) pending.push(...parse(e.site, e.event));
      await flush();
      made = p.name;
    }
    while (SHAPE === 'realistic' && written + pending.length < size) {
      const batch = realisticChanges({ seed: `q${run}`, startMs: YEAR, spacingMs }, realistic.next, 100);
      realistic.next += 100;
      for (const e of batch) {
        pending.push(...parse(`site-${'ab'[e.site]}`, e.event));
        // Samples to ask about: every 7th commit, every release.
        const git = e.event.data['gitIdentifier'] as { commitId?: string } | undefined;
        if (e.event.meta.type === 'EiffelSourceChangeSubmittedEvent' && git?.commitId && ++sampled % 7 === 0)
          realistic.commits.push(git.commitId);
        // Events to search upstream from: releases, and confidence levels (a small graph may hold no release yet).
        if (e.event.meta.type === 'EiffelCompositionDefinedEvent' || e.event.meta.type === 'EiffelConfidenceLevelModifiedEvent')
          realistic.releaseEvents.push(e.event.meta.id);
      }
      if (realistic.commits.length > 5000) realistic.commits = realistic.commits.filter((_, i) => i % 2 === 0);
      if (realistic.releaseEvents.length > 5000) realistic.releaseEvents = realistic.releaseEvents.filter((_, i) => i % 2 === 0);
      if (pending.length >= 20_000) await flush();
    }
    while (SHAPE === 'pipelines' && written + pending.length < size) {
      const p = eiffelPipeline(
        `b${run}x${pipelines.length}`,
        YEAR + Math.floor(Math.random() * 365) * DAY + Math.floor(Math.random() * 20) * 3_600_000,
      );
      pipelines.push(p);
      for (const e of p.events) pending.push(...parse(`site-${e.site}`, e.event));
      if (pending.length >= 20_000) await flush();
    }
    await flush();
    const [total] = await graph.read<{ n: number }>('MATCH (e:Event) RETURN count(e) AS n');
    log(
      `graph grown to ${written} generated events (${pipelines.length} pipelines; ${total?.n ?? '?'} events in the database) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );

    const pick = (i: number): Pipeline => pipelines[(i * 7919) % pipelines.length]!;
    const sample = <T>(xs: readonly T[], i: number): T => xs[(i * 7919) % xs.length]!;
    const commitOf = (i: number): string => (SHAPE === 'realistic' ? sample(realistic.commits, i) : pick(i).commits.C1.sha);
    const releaseEventOf = (i: number): string => (SHAPE === 'realistic' ? sample(realistic.releaseEvents, i) : pick(i).releaseEvents[2]!);
    const trace = await time(SAMPLES, (i) => traces.forCommitJson(commitOf(i)));
    const search = await time(SAMPLES, (i) => eiffel.search(releaseEventOf(i), { ult: ['ALL'], dlt: [], levels: 5, limit: 1000 }));
    const lead = await time(SLOW_SAMPLES, (i) => {
      const from = YEAR + ((i * 37) % 300) * DAY;
      return leadTimes.leadTime({
        from: new Date(from).toISOString(),
        to: new Date(from + 30 * DAY).toISOString(),
        until: 'release',
        groupBy: 'stage',
      });
    });
    const release = big ? await time(SLOW_SAMPLES, () => releases.contents(big!.product, '1')) : undefined;
    if (big) {
      const r = await releases.contents(big.product, '1');
      if (r.commits.length !== RELEASE_COMMITS)
        throw new Error(`the big release lists ${r.commits.length} commits, not ${RELEASE_COMMITS}`);
      if (r.truncated) throw new Error('the big release came back truncated (limits.releaseEvents)');
    }
    const history = made ? await time(SLOW_SAMPLES, () => releases.contents(made!, '2', '1')) : undefined;
    if (made) {
      const r = await releases.contents(made, '2', '1');
      const want = PRODUCT_COMPONENTS * PRODUCT_COMMITS;
      if (r.commits.length !== want) throw new Error(`the product's release 2 lists ${r.commits.length} commits, not ${want}`);
      const upgraded = r.diff?.components.filter((c) => c.status === 'upgraded' && c.commitsAdded.length === PRODUCT_COMMITS).length;
      if (upgraded !== PRODUCT_COMPONENTS)
        throw new Error(`${upgraded} of ${PRODUCT_COMPONENTS} components upgraded by ${PRODUCT_COMMITS} commits`);
      if (r.components.some((c) => c.history !== 'complete')) throw new Error('a component of the product has an incomplete history');
    }
    results.push(
      [
        `${written} generated events (${total?.n ?? '?'} in the database):`,
        `  trace-by-commit          ${stats(trace)}`,
        `  release (${RELEASE_COMMITS} commits) ${release ? stats(release) : '— (graph smaller than the release)'}`,
        `  release history (${PRODUCT_COMPONENTS} components × ${PRODUCT_COMMITS} commits, with diff) ${history ? stats(history) : '— (graph smaller than the product)'}`,
        `  lead time over 30 days   ${stats(lead)}`,
        `  upstream search, 5 levels ${stats(search)}`,
      ].join('\n'),
    );
    process.stdout.write(results[results.length - 1] + '\n');
  }
  await graph.onModuleDestroy();
  process.stdout.write(`\nquery benchmark (run ${run}):\n${results.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:query: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
