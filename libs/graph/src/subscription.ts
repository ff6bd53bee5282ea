import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { FAILED_OUTCOMES, STOPPED_OUTCOMES } from '@not/events';
import { z } from 'zod';
import { FINDING_METRICS, FINDING_TYPES, insightSubject, SEGMENTS, type InsightEpisode, type InsightFinding } from './insight.js';
import { JOURNEY_ORDER, type JourneyEvent, type JourneyRecord, type JourneyStage } from './journey.js';

/**
 * Subscriptions (docs/explorer.md, "Subscriptions"): a declarative condition over the journey read model
 * or over single events, and where to deliver a firing. Pure: the explorer validates with these schemas,
 * the correlator evaluates with {@link journeyMatch} and {@link eventMatch} as it writes. A condition is
 * never turned into query text: the correlator matches the journeys it has just computed in memory.
 */

/** The stages a change can be watched at (the journey's order, without the first two, which every change has). */
const WATCHED_STAGES = JOURNEY_ORDER.filter((s) => s !== 'work-item' && s !== 'commit') as [JourneyStage, ...JourneyStage[]];

const outcome = z
  .enum(['any', 'success', 'failure'])
  .default('any')
  .describe('any: the stage was reached; success / failure: an event there ended so');

const change = z
  .strictObject({
    repository: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe('a prefix of the repository key, e.g. github.com/acme/ or github.com/acme/shop'),
    area: z.string().min(1).max(200).optional().describe("an area of the explorer's configuration (areas)"),
    commit: z
      .string()
      .regex(/^[0-9a-fA-F]{4,64}$/, 'must be a commit sha or a prefix of one (4 to 64 hex digits)')
      .optional(),
    workItem: z.string().min(1).max(200).optional().describe('a work item the change names, e.g. PAY-123'),
  })
  .describe('which changes: every field given must hold');

const site = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a site id (lower-case letters, digits, -)')
  .optional()
  .describe('only at this site (default: any site)');

const stageCondition = z.strictObject({
  on: z.literal('stage'),
  stage: z.enum(WATCHED_STAGES),
  site,
  outcome,
  change: change.optional(),
});

const artifactCondition = z.strictObject({
  on: z.literal('artifact'),
  artifact: z
    .string()
    .min(3)
    .max(500)
    .describe('a pattern of the artifact key, * for any run of characters, e.g. purl:pkg:maven/com.acme/* or sha256:*'),
  stage: z.enum(WATCHED_STAGES),
  site,
  outcome,
  change: change.optional(),
});

const failureCondition = z.strictObject({
  on: z.literal('failure'),
  stages: z.array(z.enum(WATCHED_STAGES)).min(1).default(['build', 'test', 'deployment']).describe('where a failure counts'),
  site,
  change: change.optional(),
});

const stuckCondition = z.strictObject({
  on: z.literal('stuck'),
  stage: z.enum(WATCHED_STAGES),
  after: z
    .string()
    .regex(/^\d+(\.\d+)?[smhd]$/, 'must be a duration such as 30m, 4h or 2d')
    .describe('how long a change may stay with this stage as its furthest before it counts as stuck'),
  change: change.optional(),
});

const eventCondition = z.strictObject({
  on: z.literal('event'),
  type: z.string().min(1).max(200).describe("the event's own type, e.g. EiffelConfidenceLevelModifiedEvent or push"),
  site,
  fields: z
    .record(
      z.string().regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, 'a field is a dotted path into the body, e.g. data.name'),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .optional()
    .describe('dotted paths into the event body as it arrived, each equal to its value'),
});

/** A list filter: absent means any; given, at least one value and no value twice. */
function anyOf<T extends z.ZodType<string>>(item: T, what: string) {
  return z
    .array(item)
    .min(1, `give at least one ${what}, or leave the field out for any`)
    .max(50)
    .refine((xs) => new Set(xs).size === xs.length, { message: `a ${what} is given twice` })
    .optional();
}

const insightCondition = z.strictObject({
  on: z.literal('insight'),
  types: anyOf(z.enum(FINDING_TYPES), 'finding type').describe(
    'which findings of /api/v1/insights: breach, forecast, anomaly, trend, stuck (default: every type)',
  ),
  metrics: anyOf(z.enum(FINDING_METRICS), 'metric').describe('which metric the finding is about (default: any)'),
  segments: anyOf(z.enum(SEGMENTS), 'segment').describe('which lead-time segments (default: any)'),
  sites: anyOf(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a site id (lower-case letters, digits, -)'), 'site').describe(
    'findings about one of these sites',
  ),
  areas: anyOf(z.string().min(1).max(200), 'area').describe(
    "findings about one of these areas (the explorer's areas; a repository where no area names it). " +
      'With neither sites nor areas, findings about every change, each area and each site count',
  ),
});

export const subscriptionConditionSchema = z.discriminatedUnion('on', [
  stageCondition,
  artifactCondition,
  failureCondition,
  stuckCondition,
  eventCondition,
  insightCondition,
]);
export type SubscriptionCondition = z.output<typeof subscriptionConditionSchema>;
export type ChangeFilter = z.output<typeof change>;

const webhook = z.strictObject({
  type: z.literal('webhook'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2000)
    .describe('POSTed a JSON body signed with HMAC-SHA256 (X-Traces-Signature-256)'),
  secret: z.string().min(16, 'a secret needs at least 16 characters').max(200).optional().describe('generated when not given; shown once'),
});

const amqpDelivery = z.strictObject({
  type: z.literal('amqp'),
  /** Extra words of the routing key after `subscription.<id>` (for bindings by kind). */
  routingKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated words of letters, digits, _ and -')
    .max(200)
    .optional()
    .describe('the routing key on the notifications exchange (default: subscription.<id>)'),
  /**
   * Shapes the message as the Jenkins RabbitMQ Build Trigger plugin's application message
   * (app_id remote-build; project, token, parameter[]), so a job with that trigger starts on it.
   */
  jenkins: z
    .strictObject({
      project: z.string().min(1).max(500),
      token: z.string().min(1).max(500),
    })
    .optional(),
});

export const subscriptionDeliverySchema = z.discriminatedUnion('type', [webhook, amqpDelivery]);
export type SubscriptionDelivery = z.output<typeof subscriptionDeliverySchema>;

/** What a client sends to create or replace a subscription. */
export const subscriptionInputSchema = z.strictObject({
  name: z.string().min(1).max(200),
  condition: subscriptionConditionSchema,
  delivery: subscriptionDeliverySchema,
  enabled: z.boolean().default(true),
});
export type SubscriptionInput = z.output<typeof subscriptionInputSchema>;

/** A subscription as it is stored and evaluated. */
export interface Subscription extends SubscriptionInput {
  readonly id: string;
  readonly owner: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Area name -> repository prefixes, from the explorer's configuration when the subscription was saved. */
  readonly areas: ReadonlyArray<{ name: string; repositoryPrefix: string }>;
}

/** One firing to record: exactly one per key, ever. */
export interface FiringRow {
  /** `<subscription id>|<subject>`: unique in the graph. */
  readonly key: string;
  /** A short stable id derived from the key: the idempotency key of every delivery attempt. */
  readonly id: string;
  readonly subscription: string;
  /** A commit key (journey conditions), an event id (event conditions) or a finding episode (insight conditions). */
  readonly subject: string;
  /** The JSON body delivered (without the delivery's own fields). */
  readonly body: string;
}

export function firingId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** Durations such as `30m`, `4h`, `2d` in milliseconds. */
export function durationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a duration such as 30m, 4h or 2d`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** `*` matches any run of characters; everything else literally. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map(escapeRe).join('.*') + '$');
  return re.test(value);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function areaMatches(areas: Subscription['areas'], area: string, repository: string): boolean {
  const rule = areas.find((a) => repository.startsWith(a.repositoryPrefix));
  return (rule?.name ?? repository) === area;
}

/** Whether a journey is one of the changes a filter names. */
export function changeMatches(filter: ChangeFilter | undefined, j: JourneyRecord, areas: Subscription['areas'] = []): boolean {
  if (!filter) return true;
  if (filter.repository !== undefined && !j.repository.startsWith(filter.repository)) return false;
  if (filter.area !== undefined && !areaMatches(areas, filter.area, j.repository)) return false;
  if (filter.commit !== undefined && !(j.sha ?? '').toLowerCase().startsWith(filter.commit.toLowerCase())) return false;
  if (filter.workItem !== undefined && !j.workItems.includes(filter.workItem)) return false;
  return true;
}

function outcomeHolds(wanted: 'any' | 'success' | 'failure', e: JourneyEvent): boolean {
  if (wanted === 'any') return true;
  if (!e.outcome) return false;
  return wanted === 'failure' ? FAILED_OUTCOMES.has(e.outcome) : !STOPPED_OUTCOMES.has(e.outcome);
}

/**
 * The events of a journey that make a journey condition hold (empty: it does not hold). `stuck` is not
 * decided here: it depends on the clock, see {@link stuckSince}; and `event` conditions are about single
 * events ({@link eventMatch}).
 */
export function journeyMatch(
  s: Pick<Subscription, 'condition' | 'areas'>,
  j: JourneyRecord,
  aliases: ReadonlyMap<string, readonly string[]> = new Map(),
): JourneyEvent[] {
  const c = s.condition;
  switch (c.on) {
    case 'stage':
    case 'artifact': {
      if (!changeMatches(c.change, j, s.areas)) return [];
      if (c.on === 'artifact' && !j.artifacts.some((a) => [a, ...(aliases.get(a) ?? [])].some((k) => globMatch(c.artifact, k)))) return [];
      return j.events.filter((e) => e.stage === c.stage && (c.site === undefined || e.site === c.site) && outcomeHolds(c.outcome, e));
    }
    case 'failure': {
      if (!changeMatches(c.change, j, s.areas)) return [];
      const stages = new Set<string>(c.stages);
      return j.events.filter((e) => stages.has(e.stage) && (c.site === undefined || e.site === c.site) && outcomeHolds('failure', e));
    }
    case 'stuck':
    case 'event':
    case 'insight':
      return [];
    default: {
      const never: never = c;
      throw new Error(`unknown condition ${JSON.stringify(never)}`);
    }
  }
}

/**
 * When a journey started waiting at the stage a `stuck` condition watches: the last event there, if the
 * stage is the furthest the change reached and it did not stop there on a failure; else null.
 */
export function stuckSince(s: Pick<Subscription, 'condition' | 'areas'>, j: JourneyRecord): string | null {
  const c = s.condition;
  if (c.on !== 'stuck' || !changeMatches(c.change, j, s.areas)) return null;
  if (j.furthestStage !== c.stage || j.stoppedStage !== null) return null;
  return j.stages.find((x) => x.stage === c.stage)?.last ?? null;
}

/** An event as event conditions see it: its type, site and the body it arrived in. */
export interface WatchedEvent {
  readonly id: string;
  readonly type: string;
  readonly site: string;
  readonly time: string;
  readonly raw: string | null;
}

/** Whether one event meets an `event` condition (fields are read from its body when that is JSON). */
export function eventMatch(s: Pick<Subscription, 'condition'>, e: WatchedEvent): boolean {
  const c = s.condition;
  if (c.on !== 'event' || e.type !== c.type || (c.site !== undefined && e.site !== c.site)) return false;
  const fields = Object.entries(c.fields ?? {});
  if (!fields.length) return true;
  let body: unknown;
  try {
    body = JSON.parse(e.raw ?? '');
  } catch {
    return false;
  }
  return fields.every(([path, want]) => fieldAt(body, path) === want);
}

function fieldAt(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const k of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return at;
}

/** The change part of a firing's body. */
function changeOf(j: JourneyRecord): Record<string, unknown> {
  return {
    commit: j.key,
    repository: j.repository,
    sha: j.sha,
    workItems: j.workItems,
    sites: j.sites,
    furthestStage: j.furthestStage,
    stoppedStage: j.stoppedStage,
    artifacts: j.artifacts,
    releases: j.releases,
  };
}

function firing(s: Subscription, subject: string, body: Record<string, unknown>): FiringRow {
  const key = `${s.id}|${subject}`;
  const id = firingId(key);
  return {
    key,
    id,
    subscription: s.id,
    subject,
    body: JSON.stringify({ firing: id, subscription: { id: s.id, name: s.name, owner: s.owner }, condition: s.condition, ...body }),
  };
}

/**
 * The firings a journey's new record causes: for each enabled journey condition that holds now and did
 * not hold on the record it replaces. `aliases`: an artifact's other keys (a purl beside its digest). A condition that already held before the subscription existed does
 * not fire for it; one completed later (by a late link, in any order) does, without any time limit.
 */
export function journeyFirings(
  subs: readonly Subscription[],
  prev: JourneyRecord | undefined,
  next: JourneyRecord,
  aliases: ReadonlyMap<string, readonly string[]> = new Map(),
): FiringRow[] {
  const out: FiringRow[] = [];
  for (const s of subs) {
    if (!s.enabled) continue;
    const now = journeyMatch(s, next, aliases);
    if (!now.length) continue;
    if (prev && journeyMatch(s, prev, aliases).length) continue;
    out.push(
      firing(s, next.key, {
        change: changeOf(next),
        events: now.map((e) => ({ id: e.id, stage: e.stage, site: e.site, time: e.time, outcome: e.outcome })),
      }),
    );
  }
  return out;
}

/** The firing of a `stuck` condition for a journey waiting since `since`. */
export function stuckFiring(s: Subscription, j: JourneyRecord, since: string): FiringRow {
  return firing(s, j.key, { change: changeOf(j), waiting: { stage: j.furthestStage, since } });
}

/** The firings of event conditions for new events. */
export function eventFirings(subs: readonly Subscription[], events: readonly WatchedEvent[]): FiringRow[] {
  const out: FiringRow[] = [];
  for (const s of subs) {
    if (!s.enabled || s.condition.on !== 'event') continue;
    for (const e of events) {
      if (eventMatch(s, e)) out.push(firing(s, e.id, { event: { id: e.id, type: e.type, site: e.site, time: e.time } }));
    }
  }
  return out;
}

/**
 * Whether a finding meets an `insight` condition: each list given must name the finding's type, metric
 * and segment; with sites or areas, the finding must be about one of them (a finding about every change
 * is about no one site or area).
 */
export function insightMatch(s: Pick<Subscription, 'condition'>, f: InsightFinding): boolean {
  const c = s.condition;
  if (c.on !== 'insight') return false;
  if (c.types && !c.types.includes(f.type)) return false;
  if (c.metrics && !c.metrics.includes(f.metric)) return false;
  if (c.segments && !c.segments.includes(f.segment)) return false;
  if (!c.sites && !c.areas) return true;
  return (
    (f.dimension === 'site' && (c.sites?.includes(f.group) ?? false)) || (f.dimension === 'area' && (c.areas?.includes(f.group) ?? false))
  );
}

/**
 * The firings of `insight` conditions in one trends round: one per subscription and finding episode
 * (the key names the finding and its episode's start, so a finding that holds round after round fires
 * once and a new episode of it fires again). An episode that began before the subscription was saved
 * does not fire for it, as a journey condition does not fire for what held before.
 */
export function insightFirings(
  subs: readonly Subscription[],
  findings: readonly InsightFinding[],
  episodes: ReadonlyMap<string, InsightEpisode>,
): FiringRow[] {
  const out: FiringRow[] = [];
  for (const s of subs) {
    if (!s.enabled || s.condition.on !== 'insight') continue;
    const saved = Date.parse(s.createdAt);
    for (const f of findings) {
      const e = episodes.get(f.id);
      if (!e || e.firstSeen < saved || !insightMatch(s, f)) continue;
      out.push(
        firing(s, insightSubject(f.id, e.since), {
          finding: f,
          episode: { since: new Date(e.since).toISOString(), firstSeen: new Date(e.firstSeen).toISOString() },
        }),
      );
    }
  }
  return out;
}

/** Retry delay after `attempts` failed deliveries: 1 s doubling, at most `maxMs`. */
export function retryDelayMs(attempts: number, maxMs: number): number {
  return Math.min(maxMs, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
}

/** The header a webhook delivery is signed in: `sha256=<hex HMAC-SHA256 of the body with the secret>`. */
export const SIGNATURE_HEADER = 'x-traces-signature-256';

export function signBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** Checks a delivery's signature in constant time (for receivers written in TypeScript). */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The routing key of a subscription's messages on the notifications exchange. */
export function notificationRoutingKey(s: Pick<Subscription, 'id' | 'delivery'>): string {
  return s.delivery.type === 'amqp' && s.delivery.routingKey ? s.delivery.routingKey : `subscription.${s.id}`;
}

/**
 * The body of an AMQP notification: the firing as it is, or, for a Jenkins job, the RabbitMQ Build
 * Trigger plugin's application message with the firing's facts as build parameters.
 */
export function amqpBody(s: Pick<Subscription, 'delivery'>, body: string): { body: string; appId: string } {
  if (s.delivery.type !== 'amqp' || !s.delivery.jenkins) return { body, appId: 'network-of-traces' };
  const f = JSON.parse(body) as {
    firing: string;
    subscription: { id: string };
    change?: { commit: string; sha: string | null };
    event?: { id: string };
    finding?: { id: string };
  };
  const parameter = [
    { name: 'TRACES_FIRING', value: f.firing },
    { name: 'TRACES_SUBSCRIPTION', value: f.subscription.id },
    ...(f.change
      ? [
          { name: 'TRACES_COMMIT', value: f.change.commit },
          { name: 'TRACES_SHA', value: f.change.sha ?? '' },
        ]
      : []),
    ...(f.event ? [{ name: 'TRACES_EVENT', value: f.event.id }] : []),
    ...(f.finding ? [{ name: 'TRACES_FINDING', value: f.finding.id }] : []),
  ];
  return {
    body: JSON.stringify({ project: s.delivery.jenkins.project, token: s.delivery.jenkins.token, parameter }),
    appId: 'remote-build',
  };
}
