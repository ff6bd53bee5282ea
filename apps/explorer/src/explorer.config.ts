import { httpSchema, loadConfigFile, neo4jSchema } from '@not/config';
import { z } from 'zod';
import { LEAD_TIME_STARTS } from './lead-time.segments.js';
import { trendsConfigSchema } from './trends/trends.config.js';

export const explorerConfigSchema = z.strictObject({
  neo4j: neo4jSchema,
  http: httpSchema,
  logLevel: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** Always on: there is no built-in token (the local mesh writes the one it generated). */
  auth: z.strictObject({
    /**
     * Bearer tokens accepted on /api/*; /health/*, /metrics and the page itself are open. A token may be
     * given a name ({name, token}): subscriptions belong to the name, so a token can be replaced.
     */
    tokens: z
      .array(
        z.union([
          z.string().min(12, 'a token needs at least 12 characters'),
          z.strictObject({
            name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'must be a name of letters, digits, . _ @ -'),
            token: z.string().min(12, 'a token needs at least 12 characters'),
          }),
        ]),
      )
      .min(1, 'give at least one token'),
  }),
  /** How areas are named for lead time: repository key prefix -> area name (first match wins); else the repository. */
  areas: z.array(z.strictObject({ name: z.string().min(1), repositoryPrefix: z.string().min(1) })).default([]),
  /** Which deployment environments are production: DORA and lead time to `deployment` count deployments there. */
  environments: z
    .strictObject({
      /** Environment names; `*` matches any characters, case-insensitive, whole name. */
      production: z
        .array(
          z
            .string()
            .min(1, 'must not be empty')
            .max(200)
            .regex(/^[^\s]+$/, 'must be an environment name or pattern without spaces, e.g. prod* or production-eu'),
        )
        .min(1, 'give at least one production environment name or pattern, e.g. prod*')
        .default(['prod*']),
    })
    .default({ production: ['prod*'] }),
  limits: z
    .strictObject({
      /** Steps a walk through the graph may take before it stops (a guard against cycles of bad links). */
      walkSteps: z.number().int().min(1).max(200).default(40),
      /** Most events one trace (or one change of a lead-time query) walks through. */
      events: z.number().int().min(10).max(1_000_000).default(20_000),
      /** Most events one release's contents walk through (a release of 10,000 commits has some 40,000). */
      releaseEvents: z.number().int().min(10).max(5_000_000).default(200_000),
      /** Most changes one lead-time query considers. */
      leadTimeChanges: z.number().int().min(1).max(1_000_000).default(20_000),
    })
    .default({ walkSteps: 40, events: 20_000, releaseEvents: 200_000, leadTimeChanges: 20_000 }),
  /** The journey read model the correlator keeps (docs/architecture.md, "Journeys"). */
  journeys: z
    .strictObject({
      /**
       * How long an answer from the model waits for the correlator to take in the events written
       * before the request (a few hundred milliseconds behind the graph when it keeps up).
       */
      waitMs: z.number().int().min(0).max(60_000).default(5000),
      /**
       * Commit traces kept per replica, each with the basis of the journey it was computed with: one is
       * answered again while that journey is unchanged and not marked for recomputation (0: none kept).
       */
      traceCache: z.number().int().min(0).max(100_000).default(500),
    })
    .default({ waitMs: 5000, traceCache: 500 }),
  stream: z
    .strictObject({
      pollMs: z.number().int().min(100).max(60_000).default(1000),
      /** How far back in arrival time (the graph store's clock) a poll looks; longer than the longest write transaction. */
      lookbackSeconds: z.number().int().min(10).max(86_400).default(300),
    })
    .default({ pollMs: 1000, lookbackSeconds: 300 }),
  /** The Eiffel Event Repository API (see docs/explorer.md, "Eiffel clients"). */
  eiffelApi: z
    .strictObject({
      /** Where the ER routes live: `<basePath>/events`, `<basePath>/events/{id}`, `<basePath>/search/{id}`. */
      basePath: z
        .string()
        .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /er or /eventrepository/v1 (no trailing slash)')
        .refine((p) => !/^\/(api|health|metrics)(\/|$)/.test(p), 'must not be under /api, /health or /metrics')
        .default('/er'),
      /** Lets clients without a token (Eiffel Intelligence has no setting for one) read the ER routes; the rest of the API keeps its tokens. */
      anonymousRead: z.boolean().default(false),
      /** Largest pageSize of GET /events (goer sets none; its default, 500, is ours too). */
      maxPageSize: z.number().int().min(1).max(100_000).default(10_000),
      /** Most events a filter on a body path is checked on; a query that needs more is refused with what to narrow. */
      maxScan: z.number().int().min(1_000).max(10_000_000).default(200_000),
      /** Most events one search answers; levels=-1&limit=-1 past it is refused with a clear error. */
      maxSearchEvents: z.number().int().min(1).max(1_000_000).default(20_000),
    })
    .default({ basePath: '/er', anonymousRead: false, maxPageSize: 10_000, maxScan: 200_000, maxSearchEvents: 20_000 }),
  /** Where lead time starts when the request does not say (`start=`): at the first commit, or at the change's work item. */
  leadTime: z
    .strictObject({
      start: z.enum(LEAD_TIME_STARTS).default('commit'),
    })
    .default({ start: 'commit' }),
  /** The delivery figures on /metrics (lead time, bottleneck, waiting changes, DORA), recomputed in the background. */
  deliveryMetrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How often the figures are recomputed. */
      intervalSeconds: z.number().int().min(5).max(86_400).default(60),
      /** The window they cover, ending now. */
      windowDays: z
        .number()
        .min(1 / 24)
        .max(366)
        .default(30),
      /** The stage at which a change counts as delivered (lead time ends there; its events are the deployments). */
      until: z.enum(['merge', 'build', 'artifact', 'test', 'publication', 'promotion', 'deployment', 'release']).default('release'),
      /**
       * A round that finds no event taken in and no journey written since the last reading asks only
       * whether the window slid over any event since; if not, it re-exports the reading with the waiting
       * times aged. The graph is read in full at least this often all the same.
       */
      refreshSeconds: z.number().int().min(5).max(86_400).default(3600),
      /**
       * While the graph keeps changing, lead time, the bottleneck and the DORA figures are read again at
       * most this often; where the waiting changes are is brought up to date every round all the same.
       */
      leadTimeSeconds: z.number().int().min(5).max(86_400).default(300),
      /**
       * At most this many `area` label values (labels stay bounded as repositories come): configured areas
       * keep their names (all of them, should there be more), and a repository outside them only among the
       * areas with the most changes; the rest are summed up as `other`.
       */
      maxAreas: z.number().int().min(2).max(10_000).default(50),
    })
    // Absent, the section is read as empty: every field takes its own default.
    .prefault({}),
  /** Trends, anomalies, bottleneck forecasts and stuck changes from the journey model (docs/explorer.md, "Trends and insights"). */
  trends: trendsConfigSchema,
});

export type ExplorerConfig = z.output<typeof explorerConfigSchema>;

/** Reads the explorer's YAML file. */
export function loadExplorerConfig(file: string): ExplorerConfig {
  return loadConfigFile(file, explorerConfigSchema);
}
