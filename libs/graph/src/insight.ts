/**
 * The explorer's findings (apps/explorer/src/trends) as subscriptions see them: their grammar — the
 * lead-time segments, finding types and metrics — lives here so that the subscription conditions in
 * this library and the detectors in the explorer read one list, and episodes: how long one finding
 * counts as the same occurrence. Pure.
 */

/** Lead time's segments, in order (their boundaries: apps/explorer/src/lead-time.segments.ts). */
export const SEGMENTS = ['coding', 'waiting-for-build', 'build', 'test', 'waiting-for-promotion', 'promotion-to-release'] as const;
export type Segment = (typeof SEGMENTS)[number];

/** What the trends detectors find, most urgent first. */
export const FINDING_TYPES = ['breach', 'forecast', 'anomaly', 'trend', 'stuck'] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

export const FINDING_METRICS = ['wait', 'failure-rate', 'queue'] as const;
export type FindingMetric = (typeof FINDING_METRICS)[number];

/** A finding as the insights API gives it; the evidence is carried as it is. */
export interface InsightFinding {
  /** Stable while the finding holds: type, metric, segment, dimension, group (and change for a stuck one). */
  readonly id: string;
  readonly type: FindingType;
  readonly metric: FindingMetric;
  readonly segment: Segment;
  /** `all`, `area`, `site` (or `repository`): what `group` names. */
  readonly dimension: string;
  readonly group: string;
  readonly severity: number;
  readonly summary: string;
  /** When the evidence starts (epoch ms); it can move from round to round. */
  readonly since: number;
  readonly evidence: unknown;
}

/**
 * One occurrence of a finding: from the round that first found it until it has been missing from the
 * rounds for longer than the gap. A finding that holds over many rounds (its `since` moving as the
 * windows slide) stays one episode; one that is gone past the gap and comes back is a new one. Only
 * rounds that ran count: while no explorer computes trends (all stopped for a day, say), nothing is
 * missing, and a finding still there when they are back continues its episode.
 */
export interface InsightEpisode {
  /** The finding's id. */
  readonly finding: string;
  /** The finding's `since` in the round that began the episode (epoch ms): the episode's start. */
  readonly since: number;
  /** When a round first found it (epoch ms, the explorer's clock). */
  readonly firstSeen: number;
  /** The last round that found it. */
  readonly lastSeen: number;
  /** The first round since then that did not find it, if any. */
  readonly missedSince?: number;
}

/**
 * The episodes of this round's findings: each continues the one recorded for it unless the rounds have
 * missed it for longer than `gapMs`, else begins a new one now. Pure; the caller records the result,
 * and marks the recorded episodes this round did not find as missed since now (when not already).
 */
export function nextEpisodes(
  known: ReadonlyMap<string, InsightEpisode>,
  findings: ReadonlyArray<Pick<InsightFinding, 'id' | 'since'>>,
  now: number,
  gapMs: number,
): InsightEpisode[] {
  const out = new Map<string, InsightEpisode>();
  for (const f of findings) {
    if (out.has(f.id)) continue;
    const e = known.get(f.id);
    out.set(
      f.id,
      e && (e.missedSince === undefined || now - e.missedSince <= gapMs)
        ? { finding: e.finding, since: e.since, firstSeen: e.firstSeen, lastSeen: now }
        : { finding: f.id, since: f.since, firstSeen: now, lastSeen: now },
    );
  }
  return [...out.values()];
}

/** What a firing of an insight condition is about: the finding and its episode's start. */
export function insightSubject(findingId: string, episodeSince: number): string {
  return `insight:${findingId}@${new Date(episodeSince).toISOString()}`;
}
