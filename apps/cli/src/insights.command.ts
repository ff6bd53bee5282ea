import { checkKnown, parseArgs } from './args.js';
import { explorerGet } from './explorer.client.js';
import { explorerTarget } from './explorer.command.js';
import { table } from './explorer.format.js';

/** `traces insights`: the explorer's current findings (GET /api/v1/insights), most severe first. */
export const INSIGHTS_USAGE = `  traces insights [--type breach|forecast|anomaly|trend|stuck] [--segment SEGMENT] [--area AREA | --site SITE] [--limit N]
                                                 current findings: bottleneck forecasts, anomalies, trends, stuck changes`;

const VALUED = ['type', 'segment', 'area', 'site', 'limit'];
const COMMON = ['url', 'token', 'config'];

interface InsightsBody {
  generatedAt: string;
  journeys: number;
  truncated: boolean;
  findings: Array<{ type: string; metric: string; segment: string; dimension: string; group: string; severity: number; summary: string }>;
}

export async function insightsCommand(
  argv: readonly string[],
  out: (s: string) => void = (s) => void process.stdout.write(s + '\n'),
): Promise<number> {
  const args = parseArgs(argv, [...COMMON, ...VALUED]);
  checkKnown(args, [...COMMON, ...VALUED, 'json']);
  const q = new URLSearchParams();
  for (const k of VALUED) {
    const v = args.options.get(k);
    if (typeof v === 'string') q.set(k, v);
  }
  const body = await explorerGet<InsightsBody>(explorerTarget(args), `api/v1/insights${q.size ? `?${q}` : ''}`);
  out(args.options.has('json') ? JSON.stringify(body, null, 2) : formatInsights(body));
  return 0;
}

function formatInsights(b: InsightsBody): string {
  const head = `${b.findings.length} finding(s) from ${b.journeys} journeys, computed ${b.generatedAt}${b.truncated ? ' (the oldest journeys left out: trends.maxJourneys)' : ''}`;
  if (!b.findings.length) return `${head}\nnothing to report`;
  return [
    head,
    '',
    table(
      ['severity', 'type', 'metric', 'segment', 'where', 'finding'],
      b.findings.map((f) => [
        f.severity.toFixed(2),
        f.type,
        f.metric,
        f.segment,
        f.dimension === 'all' ? 'all' : `${f.dimension} ${f.group}`,
        f.summary,
      ]),
    ),
  ].join('\n');
}
