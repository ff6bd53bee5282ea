/**
 * The explorer's HTTP answers, defined once: the services' DTO types are inferred from these schemas
 * and the OpenAPI document (`openapi.document.ts`) is generated from them. A field added to an answer
 * without its schema fails the build (the inferred type lacks it); one added to a schema without the
 * service filling it fails the build too.
 */
import { JOURNEY_ORDER, subscriptionInputSchema } from '@not/graph';
import { z } from 'zod';
import { LEAD_TIME_STARTS, SEGMENTS } from './lead-time.segments.js';
import { FINDING_TYPES } from './trends/trends.detect.js';
import { DIMENSIONS } from './trends/trends.series.js';

/** The schemas that become `components.schemas`, by name. */
export const API_SCHEMAS = z.registry<{ id: string }>();
const named = <S extends z.ZodType>(id: string, schema: S): S => {
  API_SCHEMAS.add(schema, { id });
  return schema;
};

const str = z.string();
const strOrNull = z.string().nullable();
const strs = z.array(z.string());
const props = z.record(z.string(), z.unknown());
const int = z.number().int();

export const ErrorSchema = named(
  'Error',
  z
    .object({
      statusCode: int,
      error: str.optional(),
      message: z.union([str, strs]),
      problems: strs.optional().describe('one line per malformed parameter'),
      hint: str.optional().describe('what to check when nothing was found'),
      candidates: strs.optional().describe('the matches of an ambiguous identity'),
    })
    .describe('An error a caller can act on'),
);

const Stage = z.enum(JOURNEY_ORDER);

const EventSchema = named(
  'Event',
  z.object({
    id: str,
    type: str,
    stage: str,
    phase: strOrNull,
    outcome: strOrNull,
    time: str.describe('ISO-8601'),
    site: str,
    source: str,
    format: str,
    props,
    links: z.array(z.object({ type: str, target: str })),
    about: z.array(z.object({ label: str, key: str, role: str })),
  }),
);

const StepEvent = z.object({ event: str, type: str, time: str, site: str, outcome: strOrNull, details: props });
const CommitRef = z.object({ key: str, sha: strOrNull, repository: strOrNull });

const JourneyShape = {
  furthestStage: Stage.nullable(),
  stoppedAt: z
    .object({ stage: Stage, reason: str, event: StepEvent, build: strOrNull, testRun: strOrNull })
    .nullable()
    .describe('where the change stopped on a failure, or null'),
  stages: z.array(
    z.object({
      stage: Stage,
      reached: z.boolean(),
      first: strOrNull,
      last: strOrNull,
      events: int,
      sites: strs,
      outcome: strOrNull.describe('`failure` when the last event with an outcome at this stage failed'),
    }),
  ),
  sites: strs,
  commits: z.array(CommitRef),
  changes: z.array(z.object({ key: str, props })),
  workItems: z.array(z.object({ key: str, props })),
  builds: z.array(
    z.object({
      key: str,
      aliases: strs,
      site: strOrNull,
      ci: strOrNull,
      job: strOrNull,
      number: strOrNull,
      name: strOrNull,
      url: strOrNull,
      result: strOrNull,
      triggered: strOrNull,
      started: strOrNull,
      finished: strOrNull,
      queueSeconds: z.number().nullable(),
      runSeconds: z.number().nullable(),
      events: strs,
    }),
  ),
  testRuns: z.array(
    z.object({
      key: str,
      site: strOrNull,
      name: strOrNull,
      result: strOrNull,
      started: strOrNull,
      finished: strOrNull,
      seconds: z.number().nullable(),
      events: strs,
    }),
  ),
  artifacts: z.array(z.object({ key: str, aliases: strs, digests: strs, purls: strs, name: strOrNull, sites: strs, created: strOrNull })),
  publications: z.array(StepEvent),
  promotions: z.array(StepEvent),
  deployments: z.array(StepEvent),
  releases: z.array(z.object({ key: str, product: strOrNull, version: strOrNull, time: strOrNull })),
  events: z.array(EventSchema),
  joins: z
    .array(
      z.object({
        from: str.describe('the earlier event, in stage order'),
        to: str.describe('the later event'),
        via: z.array(z.object({ label: str, key: str })).describe('the entities the two events join through'),
      }),
    )
    .describe(
      'how the events join through what they are about, in stage order: each event about a commit, build, artifact (…) ' +
        'joins the one before it about the same entity, and the last about an entity joins the first about the entity it ' +
        'led to (a build of the commit, an artifact the build produced); pairs joined by their own links are not repeated',
    ),
  truncated: z.boolean().describe('a walk stopped at a limit: the answer is partial'),
};
/** A journey as the trace routes assemble it. */
export type JourneyDto = z.output<ReturnType<typeof z.object<typeof JourneyShape>>>;

const Subject = z.object({ kind: z.enum(['commit', 'work-item', 'change', 'artifact']), query: str, key: str });
const Merge = z.object({ change: str.describe('the pull / merge request'), commit: str.describe('the commit it was merged as') });
export const TraceSchema = named(
  'Trace',
  z.object({
    subject: Subject,
    ...JourneyShape,
    merges: z.array(Merge).describe('merges the journey continued through: changes met on the way and the commits they landed as'),
    throughMerge: strs.describe(
      'ids of the events reached only through those merges (the builds, tests and deployments of the merge commit)',
    ),
  }),
);
export type TraceDto = z.output<typeof TraceSchema>;

const Upstream = z.object({ commits: z.array(CommitRef), workItems: strs, changes: strs, builds: strs, artifacts: strs });
export type UpstreamDto = z.output<typeof Upstream>;
export const ArtifactTraceSchema = named(
  'ArtifactTrace',
  TraceSchema.extend({ upstream: Upstream.describe('the commits, work items, changes, builds and artifacts inside the artifact') }),
);
export type ArtifactTraceDto = z.output<typeof ArtifactTraceSchema>;

const HistoryState = z.enum(['complete', 'gap', 'back', 'first']);
const Version = z.object({ artifact: str, version: strOrNull });
const WhatChanged = z.object({ artifacts: strs, commits: strs, workItems: strs });
export const ReleaseSchema = named(
  'Release',
  z.object({
    product: str,
    version: str,
    key: str,
    artifacts: strs.describe('every artifact in the release, through compositions'),
    productArtifacts: strs.describe('artifacts built from the release (linked to it as their COMPOSITION)'),
    previous: strOrNull.describe('the release of the product before this one'),
    components: z.array(
      z.object({
        name: str,
        artifact: str,
        version: strOrNull,
        builtFrom: z.array(str).readonly(),
        previous: z.object({ release: str, artifact: str, version: strOrNull, builtFrom: z.array(str).readonly() }).nullable(),
        history: HistoryState,
        historyFrom: strs,
        commits: strs,
        workItems: strs,
      }),
    ),
    commits: z.array(CommitRef),
    workItems: strs,
    changes: strs,
    builds: strs,
    truncated: z.boolean(),
    componentsTruncated: z.boolean(),
    diff: z
      .object({
        against: str,
        components: z.array(
          z.object({
            name: str,
            status: z.enum(['unchanged', 'upgraded', 'downgraded', 'added', 'removed']),
            from: Version.nullable(),
            to: Version.nullable(),
            commitsAdded: strs,
            commitsRemoved: strs,
            history: HistoryState.nullable(),
          }),
        ),
        added: WhatChanged,
        removed: WhatChanged,
      })
      .optional()
      .describe('with ?diff=<version>'),
  }),
);
export type ReleaseDto = z.output<typeof ReleaseSchema>;

const Summary = z.object({
  count: int,
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  max: z.number().nullable(),
  sum: z.number(),
});
const Bottleneck = z.object({ segment: z.enum(SEGMENTS), share: z.number() }).nullable();
const segmentRecord = <S extends z.ZodType>(s: S) =>
  z.object(Object.fromEntries(SEGMENTS.map((k) => [k, s])) as Record<(typeof SEGMENTS)[number], S>);
const GroupStatsShape = {
  total: Summary,
  segments: segmentRecord(Summary.extend({ share: z.number() })),
  bottleneck: z.object({ overall: Bottleneck, waiting: Bottleneck, working: Bottleneck }),
};
const Dora = z.object({
  deployments: int,
  deploymentFrequencyPerDay: z.number(),
  leadTimeForChangesSeconds: z.number().nullable(),
  changeFailureRate: z.number().nullable(),
  timeToRestoreSeconds: z.number().nullable(),
  rollbacks: int,
});
const ChangeLeadTime = z.object({
  commit: str,
  area: str,
  site: str,
  start: str.describe('when its lead time starts: its first commit, or its work item (see `start` of the answer)'),
  workItem: strOrNull.describe('the work item its lead time starts at, else null'),
  ticket: z.number().describe('seconds from its work item to its first commit: part of total, not of segments'),
  reached: str,
  total: z.number(),
  segments: segmentRecord(z.number()),
});
export type ChangeLeadTimeDto = z.output<typeof ChangeLeadTime>;
export const LeadTimeSchema = named(
  'LeadTime',
  z
    .object({
      from: str,
      to: str,
      until: str,
      start: z.enum(LEAD_TIME_STARTS),
      groupBy: z.enum(['stage', 'area', 'site']),
      area: strOrNull,
      environment: strOrNull.describe('with until=deployment: the environment asked for, else null (the production ones)'),
      production: z.array(str).readonly().describe('the configured production environment patterns'),
      changes: int,
      overall: z.object(GroupStatsShape),
      groups: z.array(z.object({ name: str, ...GroupStatsShape })),
      dora: Dora,
      environments: z
        .array(z.object({ name: str, production: z.boolean(), changes: int, leadTime: Summary, dora: Dora }))
        .describe('every environment deployed to in the window: lead time to it and its DORA figures'),
      perChange: z.array(ChangeLeadTime),
      truncated: z.boolean(),
    })
    .describe('Durations in seconds.'),
);
export type LeadTimeDto = z.output<typeof LeadTimeSchema>;

export const EiffelEventSchema = named(
  'EiffelEvent',
  z
    .object({
      meta: z.object({
        id: str,
        type: str,
        version: strOrNull,
        time: z.number().describe('epoch milliseconds'),
        tags: z.unknown().optional(),
        source: props.optional(),
      }),
      data: props,
      links: z.array(z.object({ type: str, target: str })),
      trace: z.object({ stage: str, phase: strOrNull, outcome: strOrNull, site: str, source: str, format: str }),
    })
    .describe('An event in Eiffel shape, with where it came from under `trace`'),
);
export type EiffelEventDto = z.output<typeof EiffelEventSchema>;
export const EventsPageSchema = named(
  'EventsPage',
  z.object({ pageNo: int, pageSize: int, totalNumberItems: int, items: z.array(EiffelEventSchema) }),
);
export type EventsPageDto = z.output<typeof EventsPageSchema>;
export const SearchSchema = named(
  'Search',
  z.object({ upstreamLinkObjects: z.array(EiffelEventSchema), downstreamLinkObjects: z.array(EiffelEventSchema) }),
);
export type SearchDto = z.output<typeof SearchSchema>;

/** An Eiffel event exactly as it arrived: whatever its sender put in it. */
const ErEvent = z.record(z.string(), z.unknown()).describe('an Eiffel event exactly as received');
export const ErEventSchema = named('ErEvent', ErEvent);
export const ErPageSchema = named('ErPage', z.object({ pageNo: int, pageSize: int, totalNumberItems: int, items: z.array(ErEvent) }));
export type ErPage = z.output<typeof ErPageSchema>;
/** With tree=true, Eiffel Intelligence's nested form: [start, event | [event, …], …]. */
const TreeNode: z.ZodType<unknown> = named(
  'ErTreeNode',
  z.lazy(() => z.union([ErEvent, z.array(TreeNode)])),
);
export const ErSearchSchema = named(
  'ErSearch',
  z.object({
    upstreamLinkObjects: z.array(TreeNode).describe('the searched event, then what it reaches upstream (nested when tree=true)'),
    downstreamLinkObjects: z.array(TreeNode).describe('the searched event, then what reaches it downstream (nested when tree=true)'),
  }),
);
export type ErSearch = z.output<typeof ErSearchSchema>;
export const ErErrorSchema = named('ErError', z.object({ errorMsg: str, statusCode: int }));

export const GraphChangeSchema = named(
  'GraphChange',
  z
    .object({
      kind: z.enum(['event', 'failure']),
      event: z.object({ id: str, type: str, stage: str, phase: strOrNull, outcome: strOrNull, time: str, site: str }),
      commits: strs,
      workItems: strs,
      releases: strs,
      reached: z
        .array(z.object({ commit: str, stage: str }))
        .describe('the commits whose journeys this event took to its stage for the first time'),
    })
    .describe('the data of one Server-Sent Event of GET /api/v1/stream'),
);
export type GraphChange = z.output<typeof GraphChangeSchema>;

export const SubscriptionInputSchema = named('SubscriptionInput', subscriptionInputSchema);
export const SubscriptionSchema = named(
  'Subscription',
  subscriptionInputSchema.extend({
    id: str,
    owner: str,
    createdAt: str,
    updatedAt: str,
    areas: z
      .array(z.object({ name: str, repositoryPrefix: str }))
      .readonly()
      .describe("the explorer's areas when the subscription was saved"),
    secret: str.optional().describe('only in the answer that generated it'),
  }),
);
export type SubscriptionDto = z.output<typeof SubscriptionSchema>;
export const SubscriptionsSchema = named('Subscriptions', z.array(SubscriptionSchema));
export const FiringsSchema = named(
  'Firings',
  z.array(
    z.object({
      id: str,
      subject: str,
      status: z.enum(['pending', 'delivered', 'dead', 'cancelled']),
      createdAt: str,
      attempts: int,
      deliveredAt: strOrNull,
      nextAttemptAt: strOrNull,
      lastError: strOrNull,
    }),
  ),
);

const SeriesKey = { segment: z.enum(SEGMENTS), dimension: z.enum(DIMENSIONS), group: str };
const Points = z.array(z.object({ t: z.number(), v: z.number() }));
const Pair = z.tuple([z.number(), z.number()]);
const Evidence = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('wait-anomaly'),
    score: z.number(),
    recent: z.object({ n: int, medianSeconds: z.number() }),
    baseline: z.object({ medianSeconds: z.number() }),
    changes: strs,
  }),
  z.object({
    kind: z.literal('failure-anomaly'),
    score: z.number(),
    recent: z.object({ hours: z.number(), finished: int, failed: int, rate: z.number() }),
    baseline: z.object({ rate: z.number(), finished: z.number() }),
  }),
  z.object({
    kind: z.literal('trend'),
    pValue: z.number(),
    confidence: z.number(),
    ratioPerDay: z.number(),
    secondsPerDay: z.number(),
    ratioPerDayInterval: Pair,
    points: Points,
  }),
  z.object({
    kind: z.literal('forecast'),
    objective: z.number(),
    current: z.number(),
    slope: z.number(),
    slopeInterval: Pair,
    crossing: z.number(),
    interval: z.tuple([z.number(), z.number().nullable()]),
    since: z.number().describe('when the rise began (epoch ms)'),
    band: z
      .array(z.object({ t: z.number(), value: z.number(), low: z.number(), high: z.number() }))
      .describe('the line ahead, a point a day, with its 90 % prediction band'),
    points: Points,
  }),
  z.object({ kind: z.literal('breach'), objective: z.number(), current: z.number(), points: Points }),
  z.object({
    kind: z.literal('stuck'),
    change: str,
    since: z.number(),
    ageSeconds: z.number(),
    quantileSeconds: z.number(),
    quantile: z.number(),
    samples: int,
  }),
]);
const Finding = named(
  'Finding',
  z.object({
    ...SeriesKey,
    id: str,
    type: z.enum(FINDING_TYPES),
    metric: z.enum(['wait', 'failure-rate', 'queue']),
    severity: z.number(),
    summary: str,
    since: z.number().describe('epoch milliseconds'),
    evidence: Evidence,
  }),
);
const BandPoint = z.object({ t: z.number(), value: z.number(), low: z.number(), high: z.number() });
export const TrendsSchema = named(
  'Trends',
  z.object({
    generatedAt: str,
    from: str,
    to: str,
    bucket: z.enum(['hour', 'day']),
    journeys: int,
    truncated: z.boolean().describe('the model held more journeys than trends.maxJourneys: the oldest were left out'),
    series: z.array(
      z.object({
        ...SeriesKey,
        points: z.array(
          z.object({
            t: z.number(),
            arrivals: int,
            departures: int,
            queue: int,
            waitP50: z.number().nullable(),
            waitP90: z.number().nullable(),
            finished: int,
            failed: int,
            failureRate: z.number().nullable(),
            anomaly: z.boolean(),
          }),
        ),
        findings: z.array(Finding),
        forecast: z.object({ metric: z.enum(['queue', 'wait']), objective: z.number(), points: z.array(BandPoint) }).nullable(),
      }),
    ),
  }),
);
export type TrendsDto = z.output<typeof TrendsSchema>;
export const InsightsSchema = named(
  'Insights',
  z.object({ generatedAt: str, journeys: int, truncated: z.boolean(), findings: z.array(Finding) }),
);
export type InsightsDto = z.output<typeof InsightsSchema>;
