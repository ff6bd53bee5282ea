import { amqpUrl, httpSchema, managementSchema, neo4jSchema } from '@not/config';
import { checkArtifactBuildRule } from '@not/events';
import { z } from 'zod';

/**
 * A CI build named by another tool's key: which build produced an artifact, by the artifact's keys, or which
 * build a JFrog build-info describes, by its key (see libs/events provenance.ts and docs/graph-model.md).
 */
const buildRule = z
  .strictObject({
    match: z.string().min(1),
    ci: z.string().min(1),
    job: z.string().min(1).optional(),
    number: z.string().min(1).optional(),
    run: z.string().min(1).optional(),
  })
  .superRefine((rule, ctx) => {
    for (const problem of checkArtifactBuildRule(rule)) {
      const field = problem.slice(0, problem.indexOf(':'));
      ctx.addIssue({ code: 'custom', path: [field], message: problem.slice(field.length + 2) });
    }
  });

export const correlatorConfigSchema = z.strictObject({
  amqp: z.strictObject({
    /** The central broker; for a cluster, a list of its nodes (the correlator moves to the next when its node goes). */
    url: z.union([amqpUrl, z.array(amqpUrl).min(1)]),
    prefetch: z.number().int().min(1).max(10000).default(2000),
    deliveryLimit: z.number().int().min(1).default(20),
    /**
     * The central broker's management API (for a cluster, any node's). With it, the ingest queue's settings
     * (dead-lettering, overflow, `deliveryLimit`) are the policy `not-ingest`, changed without declaring the
     * queue again; without it they are the queue's arguments (docs/operations.md, "The ingest queue's settings").
     */
    management: managementSchema.optional(),
    archiveMaxAge: z
      .string()
      .regex(/^\d+[YMDhms]$/, 'must be like 7D, 30D, 12h')
      .default('30D'),
  }),
  neo4j: neo4jSchema,
  batch: z
    .strictObject({
      size: z.number().int().min(1).max(20000).default(1000),
      maxWaitMs: z.number().int().min(0).max(10000).default(50),
    })
    .default({ size: 1000, maxWaitMs: 50 }),
  /**
   * At start, before consuming, the write path runs on this many synthetic events in transactions that
   * are rolled back (nothing is kept), so the first real batches are written at the warm rate. 0: off.
   */
  warmUpEvents: z.number().int().min(0).max(100_000).default(3000),
  parse: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
      workItemPatterns: z.array(z.string()).optional(),
      repositoryAliases: z.record(z.string(), z.string()).optional(),
      artifactBuilds: z.array(buildRule).optional(),
      buildInfoBuilds: z.array(buildRule).optional(),
    })
    .default({ maxBytes: 1024 * 1024 }),
  /** The journey read model (docs/architecture.md, "Journeys"), brought up to date after each batch. */
  journeys: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Pending events, then dirty journeys, handled per round. */
      batch: z.number().int().min(1).max(10_000).default(500),
      /** How long to wait before looking again when a round found nothing to do. */
      idleMs: z.number().int().min(10).max(60_000).default(1000),
      /** While rounds keep finding nothing, the wait doubles up to this (a commit of this correlator starts a round at once). */
      idleMaxMs: z.number().int().min(10).max(600_000).default(10_000),
      /** Walk limits: keep them equal to the explorer's `limits` so journeys match its traces. */
      walkSteps: z.number().int().min(1).max(200).default(40),
      events: z.number().int().min(10).max(1_000_000).default(20_000),
    })
    .default({ enabled: true, batch: 500, idleMs: 1000, idleMaxMs: 10_000, walkSteps: 40, events: 20_000 }),
  /**
   * The central Eiffel bus: every accepted Eiffel event is republished once per event id, exactly as it
   * arrived, on this topic exchange of the central broker with its Sepia routing key
   * (`eiffel.<family>.<type>.<tag>.<domainId>`; the key the tool used at its site when the relay kept it).
   */
  eiffelBus: z
    .strictObject({
      enabled: z.boolean().default(true),
      exchange: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be an exchange name (letters, digits, _ . : -)')
        .default('eiffel'),
      /** How often the outbox is checked when no batch has just committed. */
      pollMs: z.number().int().min(50).max(60_000).default(1000),
      /** While checks keep finding it empty, the wait doubles up to this (a commit checks at once). */
      pollMaxMs: z.number().int().min(50).max(600_000).default(10_000),
    })
    .default({ enabled: true, exchange: 'eiffel', pollMs: 1000, pollMaxMs: 10_000 }),
  /**
   * Subscriptions (docs/explorer.md, "Subscriptions"): firings are recorded by the journey step as events
   * arrive and delivered from the graph's outbox by every correlator (each firing claimed by one at a time).
   */
  subscriptions: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How often the outbox is looked at when a round found nothing to deliver. */
      pollMs: z.number().int().min(20).max(60_000).default(500),
      /**
       * While rounds keep finding nothing, the wait doubles up to this: the longest a firing recorded
       * elsewhere (the explorer's findings, another correlator) or a retry falls due waits to be seen.
       * Firings recorded by this correlator's journey step are delivered at once.
       */
      pollMaxMs: z.number().int().min(20).max(600_000).default(5000),
      /** Most firings delivered at once. */
      concurrency: z.number().int().min(1).max(200).default(16),
      /** How long a webhook may take to answer before the attempt counts as failed. */
      timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /** How long a firing is retried (1 s, doubling, at most maxBackoffMs) before it is dead-lettered. */
      retryForSeconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400)
        .default(86_400),
      maxBackoffMs: z.number().int().min(100).max(3_600_000).default(300_000),
      /** The topic exchange of the central broker that AMQP deliveries are published to. */
      exchange: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be an exchange name (letters, digits, _ . : -)')
        .default('notifications'),
      /** How often changes are checked against `stuck` conditions (these depend on the clock, not on events). */
      stuckEverySeconds: z.number().int().min(1).max(86_400).default(60),
    })
    .default({
      enabled: true,
      pollMs: 500,
      pollMaxMs: 5000,
      concurrency: 16,
      timeoutMs: 10_000,
      retryForSeconds: 86_400,
      maxBackoffMs: 300_000,
      exchange: 'notifications',
      stuckEverySeconds: 60,
    }),
  http: httpSchema,
  logLevel: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});

export type CorrelatorConfig = z.output<typeof correlatorConfigSchema>;

/** Injection token for the correlator's validated configuration. */
export class CorrelatorSettings {
  constructor(readonly config: CorrelatorConfig) {}
}
