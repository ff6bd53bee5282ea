import { loadMesh, Mesh } from '@not/mesh';
import { checkKnown, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { ExplorerError, explorerGet, type ExplorerTarget } from './explorer.client.js';
import { duration, table } from './explorer.format.js';

/** The explorer's commands: `trace`, `release`, `lead-time`. */
export const EXPLORER_USAGE = `  traces trace commit SHA [--repo REPO] | work-item KEY | change ID | artifact DIGEST|PURL
                                                 where a change is now: stages, builds, tests, artifacts, releases
  traces release PRODUCT VERSION [--diff VERSION]  what a release contains, and what changed since another
  traces lead-time [--from DATE] [--to DATE] [--until STAGE] [--area AREA] [--group-by stage|area|site] [--environment ENV]
                   [--start commit|work-item-created|work-item-started]
                                                 lead time per stage, the bottleneck and the DORA figures
    explorer options: --json (machine-readable), --url URL (or TRACES_EXPLORER_URL; default: the mesh's explorer),
                      --token TOKEN (or TRACES_TOKEN; default: EXPLORER_TOKEN, else the token the local mesh generated)`;

const COMMON = ['url', 'token', 'config'];

export async function explorerCommand(
  command: 'trace' | 'release' | 'lead-time',
  argv: readonly string[],
  out: (s: string) => void = (s) => void process.stdout.write(s + '\n'),
): Promise<number> {
  switch (command) {
    case 'trace': {
      const args = parseArgs(argv, [...COMMON, 'repo']);
      checkKnown(args, [...COMMON, 'repo', 'json']);
      const [kind, value] = args.positionals;
      const kinds = ['commit', 'work-item', 'change', 'artifact'];
      if (!kind || !kinds.includes(kind) || !value) throw new UsageError(`"traces trace" takes ${kinds.join(' | ')} and a value`);
      const repo = args.options.get('repo');
      const path = `api/v1/trace/${kind}/${encodeURIComponent(value)}${typeof repo === 'string' ? `?repo=${encodeURIComponent(repo)}` : ''}`;
      const body = await explorerGet<TraceBody>(explorerTarget(args), path);
      out(args.options.has('json') ? JSON.stringify(body, null, 2) : formatTrace(body));
      return 0;
    }
    case 'release': {
      const args = parseArgs(argv, [...COMMON, 'diff']);
      checkKnown(args, [...COMMON, 'diff', 'json']);
      const [product, version] = args.positionals;
      if (!product || !version) throw new UsageError('"traces release" takes a PRODUCT and a VERSION');
      const diff = args.options.get('diff');
      const path = `api/v1/releases/${encodeURIComponent(product)}/${encodeURIComponent(version)}${typeof diff === 'string' ? `?diff=${encodeURIComponent(diff)}` : ''}`;
      const body = await explorerGet<ReleaseBody>(explorerTarget(args), path);
      out(args.options.has('json') ? JSON.stringify(body, null, 2) : formatRelease(body));
      return 0;
    }
    case 'lead-time': {
      const valued = ['from', 'to', 'until', 'area', 'group-by', 'environment', 'start'];
      const args = parseArgs(argv, [...COMMON, ...valued]);
      checkKnown(args, [...COMMON, ...valued, 'json']);
      const q = new URLSearchParams();
      for (const k of valued) {
        const v = args.options.get(k);
        if (typeof v === 'string') q.set(k === 'group-by' ? 'groupBy' : k, v);
      }
      const body = await explorerGet<LeadTimeBody>(explorerTarget(args), `api/v1/lead-time${q.size ? `?${q}` : ''}`);
      out(args.options.has('json') ? JSON.stringify(body, null, 2) : formatLeadTime(body));
      return 0;
    }
  }
}

/**
 * Where the explorer is and which token to send: `--url`, else `TRACES_EXPLORER_URL`, else the
 * explorer of the mesh file; `--token`, else `TRACES_TOKEN`, else `EXPLORER_TOKEN`, else — when
 * the URL is that mesh's explorer — the token the mesh generated at its first `up`.
 */
export function explorerTarget(args: ParsedArgs): ExplorerTarget {
  const url = args.options.get('url');
  const token = args.options.get('token');
  const config = args.options.get('config');
  const given = typeof url === 'string' ? url : process.env.TRACES_EXPLORER_URL;
  let mesh: { url: string; token: string | undefined } | undefined;
  const local = (): { url: string; token: string | undefined } => {
    if (!mesh) {
      const m = new Mesh(loadMesh(typeof config === 'string' ? config : undefined));
      mesh = { url: m.explorerUrl(), token: m.explorerToken() };
    }
    return mesh;
  };
  const target = given ?? local().url;
  const chosen = typeof token === 'string' ? token : (process.env.TRACES_TOKEN ?? process.env.EXPLORER_TOKEN);
  if (chosen !== undefined) return { url: target, token: chosen };
  // The mesh's own token goes only to the mesh's own explorer.
  const meshToken = given === undefined ? local().token : sameOrigin(given, () => local().url) ? local().token : undefined;
  if (meshToken === undefined) {
    throw new ExplorerError(
      `no token for the explorer at ${target}: pass --token or set TRACES_TOKEN (the local mesh's token is in "traces mesh status --json" once "traces mesh up" has run)`,
      4,
    );
  }
  return { url: target, token: meshToken };
}

/** Whether `url` is the mesh's explorer; false when it is not a URL or there is no readable mesh file. */
function sameOrigin(url: string, meshUrl: () => string): boolean {
  try {
    return new URL(url).origin === new URL(meshUrl()).origin;
  } catch {
    return false;
  }
}

interface TraceBody {
  subject: { kind: string; key: string };
  furthestStage: string | null;
  stoppedAt: { stage: string; reason: string } | null;
  stages: Array<{
    stage: string;
    reached: boolean;
    first: string | null;
    last: string | null;
    events: number;
    sites: string[];
    outcome: string | null;
  }>;
  sites: string[];
  builds: Array<{
    key: string;
    site: string | null;
    job: string | null;
    name: string | null;
    number: string | null;
    result: string | null;
    queueSeconds: number | null;
    runSeconds: number | null;
    events?: string[];
  }>;
  testRuns: Array<{
    key: string;
    site: string | null;
    name: string | null;
    result: string | null;
    seconds: number | null;
    events?: string[];
  }>;
  artifacts: Array<{ key: string; purls: string[]; sites: string[] }>;
  releases: Array<{ key: string; time: string | null }>;
  upstream?: { commits: Array<{ key: string }>; workItems: string[] };
  commits?: Array<{ key: string }>;
  events?: Array<{ stage: string; type: string; time: string; props: Record<string, unknown> }>;
  merges?: Array<{ change: string; commit: string }>;
  throughMerge?: string[];
}

/** A work item's own timeline: its tracker's events (created, each status transition, deleted), oldest first. */
function statusHistory(t: TraceBody): string[][] {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return (t.events ?? [])
    .filter((e) => e.stage === 'work-item')
    .map((e) => {
      const from = text(e.props['statusFrom']);
      const to = text(e.props['statusTo']);
      const status = to ? `${from || '?'} -> ${to}` : text(e.props['status']);
      return [e.time, text(e.props['issue']), e.type, status, text(e.props['user'])];
    });
}

function formatTrace(t: TraceBody): string {
  const parts = [
    `${t.subject.kind} ${t.subject.key}`,
    `furthest stage: ${t.furthestStage ?? 'none'}${t.stoppedAt ? `   STOPPED at ${t.stoppedAt.stage}: ${t.stoppedAt.reason}` : ''}   sites: ${t.sites.join(', ')}`,
    '',
    table(
      ['stage', 'first', 'last', 'events', 'sites', 'outcome'],
      t.stages.filter((s) => s.reached).map((s) => [s.stage, s.first, s.last, s.events, s.sites.join(','), s.outcome]),
    ),
  ];
  const through = new Set(t.throughMerge ?? []);
  // Builds and test runs reached only through a merge say so: they ran on the merge commit.
  const via = (events?: string[]): string => (events?.length && events.every((e) => through.has(e)) ? ' (via merge)' : '');
  if (t.merges?.length)
    parts.push(
      '',
      ...t.merges.map((m) => `continued through merge: ${m.change} merged as ${m.commit} (${through.size} event(s) via merge)`),
    );
  const history = statusHistory(t);
  if (history.length) parts.push('', table(['time', 'work item', 'event', 'status', 'by'], history));
  if (t.subject.kind === 'work-item' && t.commits?.length) parts.push('', `commits: ${t.commits.map((c) => c.key).join(' ')}`);
  if (t.builds.length)
    parts.push(
      '',
      table(
        ['build', 'site', 'job', 'number', 'result', 'queued', 'ran'],
        t.builds.map((b) => [
          b.key + via(b.events),
          b.site,
          b.job ?? b.name,
          b.number,
          b.result,
          duration(b.queueSeconds),
          duration(b.runSeconds),
        ]),
      ),
    );
  if (t.testRuns.length)
    parts.push(
      '',
      table(
        ['test run', 'site', 'name', 'result', 'took'],
        t.testRuns.map((r) => [r.key + via(r.events), r.site, r.name, r.result, duration(r.seconds)]),
      ),
    );
  if (t.artifacts.length)
    parts.push(
      '',
      table(
        ['artifact', 'purls', 'sites'],
        t.artifacts.map((a) => [a.key, a.purls.join(' '), a.sites.join(',')]),
      ),
    );
  if (t.releases.length)
    parts.push(
      '',
      table(
        ['release', 'time'],
        t.releases.map((r) => [r.key, r.time]),
      ),
    );
  if (t.upstream) parts.push('', `inside: ${t.upstream.commits.length} commit(s), work items ${t.upstream.workItems.join(', ') || 'none'}`);
  return parts.join('\n');
}

interface ReleaseBody {
  key: string;
  artifacts: string[];
  productArtifacts?: string[];
  previous?: string | null;
  components?: Array<{
    name: string;
    version: string | null;
    history: string;
    commits: string[];
    previous: { version: string | null } | null;
  }>;
  commits: Array<{ key: string }>;
  workItems: string[];
  diff?: {
    against: string;
    components?: Array<{
      name: string;
      status: string;
      from: { version: string | null; artifact: string } | null;
      to: { version: string | null; artifact: string } | null;
      commitsAdded: string[];
      commitsRemoved: string[];
    }>;
    added: Record<'artifacts' | 'commits' | 'workItems', string[]>;
    removed: Record<'artifacts' | 'commits' | 'workItems', string[]>;
  };
}

function formatRelease(r: ReleaseBody): string {
  const rows: Array<[string, string]> = [
    ...r.artifacts.map((a): [string, string] => ['artifact', a]),
    ...r.commits.map((c): [string, string] => ['commit', c.key]),
    ...r.workItems.map((w): [string, string] => ['work item', w]),
  ];
  const parts = [
    `release ${r.key}: ${r.artifacts.length} artifact(s), ${r.commits.length} commit(s), ${r.workItems.length} work item(s)` +
      (r.previous ? ` since ${r.previous}` : ''),
    ...(r.productArtifacts?.length ? [`ships: ${r.productArtifacts.join(', ')}`] : []),
    ...(r.components?.length
      ? [
          '',
          table(
            ['component', 'version', 'since', 'commits', 'history'],
            r.components.map((c) => [c.name, c.version ?? '', c.previous?.version ?? '', c.commits.length, c.history]),
          ),
        ]
      : []),
    '',
    table(['kind', 'key'], rows),
  ];
  if (r.diff) {
    const d = r.diff;
    if (d.components?.length) {
      const v = (x: { version: string | null; artifact: string } | null): string => (x ? (x.version ?? x.artifact) : '');
      parts.push(
        '',
        `components against ${d.against}:`,
        table(
          ['component', 'status', 'from', 'to', '+commits', '-commits'],
          d.components.map((c) => [c.name, c.status, v(c.from), v(c.to), c.commitsAdded.length, c.commitsRemoved.length]),
        ),
      );
    }
    const diffRows: string[][] = [];
    for (const k of ['artifacts', 'commits', 'workItems'] as const) {
      for (const x of d.added[k]) diffRows.push(['+', k, x]);
      for (const x of d.removed[k]) diffRows.push(['-', k, x]);
    }
    parts.push('', `against ${d.against}:`, table(['', 'kind', 'key'], diffRows));
  }
  return parts.join('\n');
}

interface Summary {
  count: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}
interface LeadTimeBody {
  from: string;
  to: string;
  until: string;
  /** Absent from explorers older than `start=`. */
  start?: string;
  changes: number;
  overall: {
    total: Summary;
    segments: Record<string, Summary & { share: number }>;
    bottleneck: Record<'overall' | 'waiting' | 'working', { segment: string; share: number } | null>;
  };
  groups: Array<{ name: string; total: Summary }>;
  dora: DoraBody;
  environments?: Array<{ name: string; production: boolean; changes: number; dora: DoraBody }>;
}
interface DoraBody {
  deployments: number;
  deploymentFrequencyPerDay: number;
  leadTimeForChangesSeconds: number | null;
  changeFailureRate: number | null;
  timeToRestoreSeconds: number | null;
  rollbacks?: number;
}

function formatLeadTime(l: LeadTimeBody): string {
  const b = l.overall.bottleneck;
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${Math.round(x * 100)}%`);
  return [
    `${l.changes} change(s) reached ${l.until} between ${l.from} and ${l.to}${l.start && l.start !== 'commit' ? ` (from ${l.start}; the time before the first commit is in the total only)` : ''}`,
    '',
    table(
      ['segment', 'p50', 'p90', 'max', 'count', 'share'],
      [
        ...Object.entries(l.overall.segments).map(([s, x]) => [
          s + (b.overall?.segment === s ? ' *' : ''),
          duration(x.p50),
          duration(x.p90),
          duration(x.max),
          x.count,
          pct(x.share),
        ]),
        ['total', duration(l.overall.total.p50), duration(l.overall.total.p90), duration(l.overall.total.max), l.overall.total.count, ''],
      ],
    ),
    '',
    `bottleneck (*): ${b.overall ? `${b.overall.segment} ${pct(b.overall.share)}` : 'none'}; waiting: ${b.waiting ? `${b.waiting.segment} ${pct(b.waiting.share)}` : 'none'}; working: ${b.working ? `${b.working.segment} ${pct(b.working.share)}` : 'none'}`,
    ...(l.groups.length > 1
      ? [
          '',
          table(
            ['group', 'changes', 'p50', 'p90', 'max'],
            l.groups.map((g) => [g.name, g.total.count, duration(g.total.p50), duration(g.total.p90), duration(g.total.max)]),
          ),
        ]
      : []),
    '',
    `DORA: ${l.dora.deployments} deployment(s), ${l.dora.deploymentFrequencyPerDay.toFixed(2)}/day; lead time for changes ${duration(l.dora.leadTimeForChangesSeconds) || 'n/a'}; change failure rate ${pct(l.dora.changeFailureRate)}; time to restore ${duration(l.dora.timeToRestoreSeconds) || 'n/a'}; rollbacks ${l.dora.rollbacks ?? 0}`,
    ...(l.environments?.length
      ? [
          '',
          table(
            ['environment', 'deployments', 'per day', 'lead time', 'change failure', 'restore', 'rollbacks'],
            l.environments.map((e) => [
              e.name + (e.production ? ' (production)' : ''),
              e.dora.deployments,
              e.dora.deploymentFrequencyPerDay.toFixed(2),
              duration(e.dora.leadTimeForChangesSeconds) || 'n/a',
              pct(e.dora.changeFailureRate),
              duration(e.dora.timeToRestoreSeconds) || 'n/a',
              e.dora.rollbacks ?? 0,
            ]),
          ),
        ]
      : []),
  ].join('\n');
}
