import type { MeshStatus } from '@not/mesh';
import { GraphRepository, Journeys, WalkReads } from '@not/graph';
import { checkKnown, UsageError, type ParsedArgs } from './args.js';

export const JOURNEYS_OPTIONS = ['config', 'neo4j', 'user', 'database', 'walk-steps', 'events'] as const;

function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.options.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive whole number, not "${String(v)}"`);
  return n;
}

/**
 * `traces rebuild-journeys`: recomputes the journey read model from the graph (docs/architecture.md,
 * "Journeys"). Neo4j is the local mesh's unless `--neo4j URL` is given (user `--user`, default neo4j;
 * password from NEO4J_PASSWORD). Safe while the correlators run.
 */
export async function rebuildJourneysCommand(
  args: ParsedArgs,
  status: () => Promise<MeshStatus>,
  progress: (m: string) => void,
): Promise<number> {
  checkKnown(args, [...JOURNEYS_OPTIONS]);
  const url = args.options.get('neo4j');
  const user = args.options.get('user');
  const database = args.options.get('database');
  let neo4j: { url: string; user: string; password: string; database: string };
  if (typeof url === 'string') {
    const password = process.env.NEO4J_PASSWORD;
    if (!password) throw new UsageError('--neo4j needs the password in the NEO4J_PASSWORD environment variable');
    neo4j = { url, user: typeof user === 'string' ? user : 'neo4j', password, database: typeof database === 'string' ? database : 'neo4j' };
  } else {
    const s = (await status()).neo4j;
    if (!s.up) throw new UsageError(`the mesh's Neo4j (${s.bolt}) is not running: start it (traces mesh up) or give --neo4j URL`);
    neo4j = { url: s.bolt, user: s.user, password: s.password, database: typeof database === 'string' ? database : 'neo4j' };
  }
  // The walk limits must be the explorer's (limits.walkSteps, limits.events) for journeys to match its traces.
  const limits = { walkSteps: positiveInt(args, 'walk-steps', 40), events: positiveInt(args, 'events', 20_000) };
  const graph = new GraphRepository(neo4j);
  try {
    await graph.verify();
    await graph.ensureSchema();
    const journeys = new Journeys(graph, new WalkReads(graph), () => limits);
    progress(`rebuilding journeys from ${neo4j.url}`);
    let last = 0;
    const done = await journeys.rebuild((n, total) => {
      if (n - last >= 1000 || n >= total) {
        last = n;
        progress(`${n} of ${total} journeys`);
      }
    });
    progress(`journeys rebuilt: ${done} recomputed`);
    return 0;
  } finally {
    await graph.onModuleDestroy();
  }
}
