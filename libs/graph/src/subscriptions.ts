import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { nextEpisodes, type InsightEpisode, type InsightFinding } from './insight.js';
import { JOURNEY_RECORD, journeyFromProps, stageProperty } from './journey.js';
import {
  durationMs,
  insightFirings,
  stuckFiring,
  stuckSince,
  subscriptionConditionSchema,
  subscriptionDeliverySchema,
  type FiringRow,
  type Subscription,
} from './subscription.js';

/**
 * Records firings: one `:Firing` per key, ever (a uniqueness constraint backs the key). A new one is
 * labelled `:FiringPending`, the outbox the correlator's dispatcher delivers from. Used inside the write
 * that records the match (the journey step), so a match and its firing commit together.
 */
export const RECORD_FIRINGS = `UNWIND $firings AS f
MERGE (x:Firing {key: f.key})
ON CREATE SET x.id = f.id, x.subscription = f.subscription, x.subject = f.subject, x.body = f.body,
  x.causeAt = f.causeAt, x.createdAt = datetime.realtime().epochMillis, x.status = 'pending', x.attempts = 0,
  x.nextAt = datetime.realtime().epochMillis, x:FiringPending`;

/** A firing as its subscription's owner sees it. */
export interface FiringView {
  readonly id: string;
  readonly subject: string;
  readonly status: 'pending' | 'delivered' | 'dead' | 'cancelled';
  readonly createdAt: string;
  readonly attempts: number;
  readonly deliveredAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
}

/** A firing claimed for delivery, with what is needed to deliver it. */
export interface DueFiring {
  readonly id: string;
  readonly key: string;
  readonly body: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly causeAt: number | null;
  readonly subscription: (Subscription & { readonly secret: string | null }) | null;
}

type Props = Record<string, unknown>;

function fromNode(p: Props): Subscription & { secret: string | null } {
  return {
    id: String(p['id']),
    owner: String(p['owner']),
    name: String(p['name']),
    enabled: p['enabled'] !== false,
    condition: subscriptionConditionSchema.parse(JSON.parse(String(p['condition']))),
    delivery: subscriptionDeliverySchema.parse(JSON.parse(String(p['delivery']))),
    areas: JSON.parse(String(p['areas'] ?? '[]')) as Subscription['areas'],
    createdAt: String(p['createdAt']),
    updatedAt: String(p['updatedAt']),
    secret: typeof p['secret'] === 'string' ? p['secret'] : null,
  };
}

function toProps(s: Subscription, secret: string | null): Props {
  // The secret is kept apart from the delivery shown to readers.
  const delivery = s.delivery.type === 'webhook' ? { type: 'webhook', url: s.delivery.url } : s.delivery;
  return {
    id: s.id,
    owner: s.owner,
    name: s.name,
    enabled: s.enabled,
    condition: JSON.stringify(s.condition),
    delivery: JSON.stringify(delivery),
    areas: JSON.stringify(s.areas),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    secret,
  };
}

function iso(ms: unknown): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Subscriptions and their firings in the graph store (see docs/graph-model.md, "Subscriptions"). */
export class SubscriptionStore {
  /** Per `stuck` subscription, the journey key its last sweep stopped after: the next round goes on from there. */
  private readonly stuckCursor = new Map<string, string>();

  constructor(private readonly graph: GraphRepository) {}

  /** Saves a subscription (a new one, or a replacement of the owner's one with the same id). */
  async save(s: Subscription, secret: string | null): Promise<void> {
    await this.graph.write(`MERGE (s:Subscription {id: $p.id}) SET s = $p`, { p: toProps(s, secret) });
  }

  /** The secret a webhook subscription signs with (null for AMQP). */
  async secretOf(id: string): Promise<string | null> {
    const [r] = await this.graph.read<{ secret: string | null }>(`MATCH (s:Subscription {id: $id}) RETURN s.secret AS secret`, { id });
    return r?.secret ?? null;
  }

  async get(id: string): Promise<Subscription | undefined> {
    const [r] = await this.graph.read<{ p: Props }>(`MATCH (s:Subscription {id: $id}) RETURN properties(s) AS p`, { id });
    return r ? withoutSecret(fromNode(r.p)) : undefined;
  }

  async list(owner?: string): Promise<Subscription[]> {
    const rows = await this.graph.read<{ p: Props }>(
      `MATCH (s:Subscription) WHERE $owner IS NULL OR s.owner = $owner RETURN properties(s) AS p ORDER BY s.createdAt, s.id`,
      { owner: owner ?? null },
    );
    return rows.map((r) => withoutSecret(fromNode(r.p)));
  }

  /** Every enabled subscription: what the correlator evaluates in one round. */
  async enabled(): Promise<Subscription[]> {
    const rows = await this.graph.read<{ p: Props }>(`MATCH (s:Subscription) WHERE s.enabled RETURN properties(s) AS p`);
    return rows.map((r) => withoutSecret(fromNode(r.p)));
  }

  /** Deletes a subscription; its pending firings are cancelled, its history kept. */
  async delete(id: string): Promise<boolean> {
    const [r] = await this.graph.write<{ n: number }>(
      `OPTIONAL MATCH (s:Subscription {id: $id})
       WITH s, s IS NOT NULL AS found
       DETACH DELETE s
       WITH found
       CALL (found) {
         MATCH (f:FiringPending {subscription: $id}) WHERE found
         SET f.status = 'cancelled' REMOVE f:FiringPending
       }
       RETURN CASE WHEN found THEN 1 ELSE 0 END AS n`,
      { id },
    );
    return (r?.n ?? 0) > 0;
  }

  /** A subscription's firings, newest first. */
  async firings(id: string, limit: number): Promise<FiringView[]> {
    const rows = await this.graph.read<{ f: Props }>(
      `MATCH (f:Firing {subscription: $id}) RETURN properties(f) AS f ORDER BY f.createdAt DESC, f.id LIMIT $limit`,
      { id, limit: neo4j.int(limit) },
    );
    return rows.map(({ f }) => ({
      id: String(f['id']),
      subject: String(f['subject']),
      status: String(f['status']) as FiringView['status'],
      createdAt: iso(f['createdAt']) ?? '',
      attempts: Number(f['attempts'] ?? 0),
      deliveredAt: iso(f['deliveredAt']),
      nextAttemptAt: f['status'] === 'pending' ? iso(f['nextAt']) : null,
      lastError: typeof f['lastError'] === 'string' ? f['lastError'] : null,
    }));
  }

  /** Records firings (exactly once per key) outside a journey step: stuck changes. */
  async record(firings: ReadonlyArray<FiringRow & { causeAt: number | null }>): Promise<number> {
    if (!firings.length) return 0;
    await this.graph.write(RECORD_FIRINGS, { firings: firings.map(int) });
    return firings.length;
  }

  /**
   * Fires `stuck` subscriptions: journeys whose furthest stage is the watched one, reached longer ago
   * than `after` (event time), that have not fired for it yet. A round stops for a subscription once
   * `limit` of its firings are found. The candidates are read in pages of `limit` in key order, at most `scanLimit` a round, and the
   * next round goes on after the last one read (from the first again once the end is reached): journeys
   * the change filter does not match — stuck changes of other repositories or areas, which never fire and
   * so stay candidates — cannot hold back the ones it does. The repository prefix and the work item are
   * also asked of the store; area and commit are checked on each journey read.
   */
  async sweepStuck(subs: readonly Subscription[], now: number, limit = 500, scanLimit = 20_000): Promise<number> {
    let fired = 0;
    for (const s of subs) {
      const c = s.condition;
      if (!s.enabled || c.on !== 'stuck') continue;
      const before = new Date(now - durationMs(c.after)).toISOString();
      // The property name comes from the stage enum (stageProperty), never from the request text.
      const last = stageProperty(c.stage, 'Last');
      const firings: Array<FiringRow & { causeAt: number | null }> = [];
      let after = this.stuckCursor.get(s.id) ?? '';
      for (let scanned = 0; ;) {
        const rows = await this.graph.read<{ j: Props }>(
          `MATCH (j:Journey) WHERE j.key > $after AND j.furthestStage = $stage AND j.stoppedStage IS NULL AND j.${last} < $before
             AND ($repository IS NULL OR j.repository STARTS WITH $repository)
             AND ($workItem IS NULL OR $workItem IN coalesce(j.workItems, []))
             AND NOT EXISTS { MATCH (f:Firing {key: $id + '|' + j.key}) }
           WITH j ORDER BY j.key LIMIT $limit
           RETURN j {${JOURNEY_RECORD}} AS j`,
          {
            after,
            stage: c.stage,
            before,
            repository: c.change?.repository ?? null,
            workItem: c.change?.workItem ?? null,
            id: s.id,
            limit: neo4j.int(limit),
          },
        );
        for (const { j } of rows) {
          const journey = journeyFromProps(j);
          const since = stuckSince(s, journey);
          if (since !== null && since < before) firings.push({ ...stuckFiring(s, journey, since), causeAt: null });
        }
        scanned += rows.length;
        if (rows.length < limit) {
          after = '';
          break;
        }
        after = journeyFromProps(rows[rows.length - 1]!.j).key;
        if (firings.length >= limit || scanned >= scanLimit) break;
      }
      this.stuckCursor.set(s.id, after);
      fired += await this.record(firings);
    }
    return fired;
  }

  /**
   * One trends round's findings (the trends leader's): continues or begins each finding's episode
   * ({@link nextEpisodes}), marks the others missed from now on and forgets those missed for longer than
   * `gapMs` (their finding, back, begins anew), and records the
   * firings of `insight` subscriptions for them — episodes and firings in one transaction, so a
   * finding fires once per episode whichever replica leads the next round. Returns the firings recorded.
   */
  async recordInsights(subs: readonly Subscription[], findings: readonly InsightFinding[], now: number, gapMs: number): Promise<number> {
    const ids = [...new Set(findings.map((f) => f.id))];
    const rows = await this.graph.read<{ e: Props }>(`UNWIND $ids AS id MATCH (e:InsightEpisode {finding: id}) RETURN properties(e) AS e`, {
      ids,
    });
    const known = new Map<string, InsightEpisode>(
      rows.map(({ e }) => [
        String(e['finding']),
        {
          finding: String(e['finding']),
          since: Number(e['since']),
          firstSeen: Number(e['firstSeen']),
          lastSeen: Number(e['lastSeen']),
          ...(e['missedSince'] == null ? {} : { missedSince: Number(e['missedSince']) }),
        },
      ]),
    );
    const episodes = nextEpisodes(known, findings, now, gapMs);
    const firings = insightFirings(subs, findings, new Map(episodes.map((e) => [e.finding, e])));
    await this.graph.write(
      `CALL () {
         UNWIND $episodes AS e
         MERGE (x:InsightEpisode {finding: e.finding})
         SET x.since = e.since, x.firstSeen = e.firstSeen, x.lastSeen = e.lastSeen, x.missedSince = null
       }
       CALL () {
         MATCH (x:InsightEpisode) WHERE NOT x.finding IN $ids
         SET x.missedSince = coalesce(x.missedSince, $now)
         WITH x WHERE x.missedSince < $now - $gapMs
         DELETE x
       }
       CALL () { ${RECORD_FIRINGS} }`,
      {
        episodes: episodes.map((e) => ({
          finding: e.finding,
          since: neo4j.int(e.since),
          firstSeen: neo4j.int(e.firstSeen),
          lastSeen: neo4j.int(e.lastSeen),
        })),
        ids,
        now: neo4j.int(now),
        gapMs: neo4j.int(gapMs),
        firings: firings.map((f) => int({ ...f, causeAt: null })),
      },
    );
    return firings.length;
  }

  /** Pending firings: how many, and the age of the oldest in seconds. */
  async backlog(): Promise<{ pending: number; oldestSeconds: number; dead: number }> {
    const [r] = await this.graph.read<{ pending: number; oldest: number | null; dead: number }>(
      `CALL () { MATCH (f:FiringPending) RETURN count(f) AS pending, min(f.createdAt) AS oldest }
       CALL () { MATCH (f:Firing {status: 'dead'}) RETURN count(f) AS dead }
       RETURN pending, oldest, dead`,
    );
    const oldest = r?.oldest ?? null;
    return { pending: r?.pending ?? 0, oldestSeconds: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000), dead: r?.dead ?? 0 };
  }

  /**
   * Claims up to `limit` due firings for `leaseMs` (another dispatcher skips them meanwhile), with
   * their subscriptions (null when deleted).
   */
  async claim(limit: number, leaseMs: number, token: string): Promise<DueFiring[]> {
    const rows = await this.graph.write<{ f: Props; s: Props | null }>(
      `WITH datetime.realtime().epochMillis AS now
       MATCH (f:FiringPending) WHERE f.nextAt <= now AND coalesce(f.claimUntil, 0) < now
       WITH f, now ORDER BY f.nextAt LIMIT $limit
       SET f.claimUntil = now + $leaseMs, f.claimToken = $token
       WITH f
       OPTIONAL MATCH (s:Subscription {id: f.subscription})
       RETURN properties(f) AS f, properties(s) AS s`,
      { limit: neo4j.int(limit), leaseMs: neo4j.int(leaseMs), token },
    );
    return rows.map(({ f, s }) => ({
      id: String(f['id']),
      key: String(f['key']),
      body: String(f['body']),
      attempts: Number(f['attempts'] ?? 0),
      createdAt: Number(f['createdAt']),
      causeAt: typeof f['causeAt'] === 'number' ? f['causeAt'] : null,
      subscription: s ? fromNode(s) : null,
    }));
  }

  /** Marks a delivered firing (only if this dispatcher still holds its claim). */
  async delivered(id: string, token: string): Promise<void> {
    await this.graph.write(
      `MATCH (f:FiringPending {id: $id}) WHERE f.claimToken = $token
       SET f.status = 'delivered', f.deliveredAt = datetime.realtime().epochMillis, f.attempts = f.attempts + 1, f.lastError = null
       REMOVE f:FiringPending, f.claimUntil, f.claimToken, f.nextAt`,
      { id, token },
    );
  }

  /** Records a failed attempt: retried at `nextAt`, or given up (`dead`, or `cancelled` when its subscription is gone). */
  async failed(id: string, token: string, error: string, next: { at: number } | { give: 'dead' | 'cancelled' }): Promise<void> {
    await this.graph.write(
      `MATCH (f:FiringPending {id: $id}) WHERE f.claimToken = $token
       SET f.attempts = f.attempts + 1, f.lastError = $error, f.nextAt = coalesce($at, f.nextAt)
       REMOVE f.claimUntil, f.claimToken
       WITH f WHERE $give IS NOT NULL
       SET f.status = $give
       REMOVE f:FiringPending, f.nextAt`,
      { id, token, error, at: 'at' in next ? neo4j.int(next.at) : null, give: 'give' in next ? next.give : null },
    );
  }
}

function withoutSecret(s: Subscription & { secret: string | null }): Subscription {
  const { secret: _secret, ...rest } = s;
  return rest;
}

function int(f: FiringRow & { causeAt: number | null }): Record<string, unknown> {
  return { ...f, causeAt: f.causeAt === null ? null : neo4j.int(f.causeAt) };
}
