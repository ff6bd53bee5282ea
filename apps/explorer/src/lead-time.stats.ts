/**
 * Lead-time arithmetic, pure: milestones of one change -> time per segment,
 * percentiles, the bottleneck and the DORA figures. Times are ISO strings in,
 * seconds out.
 */

export const SEGMENTS = ['coding', 'waiting-for-build', 'build', 'test', 'waiting-for-promotion', 'promotion-to-release'] as const;
export type Segment = (typeof SEGMENTS)[number];
const WAITING: readonly Segment[] = ['waiting-for-build', 'waiting-for-promotion'];
const WORKING: readonly Segment[] = ['coding', 'build', 'test', 'promotion-to-release'];

/** When a change passed each point; a missing point takes the one before it (its segment lasts zero). */
export interface Milestones {
  readonly commit: string;
  readonly merge?: string;
  readonly buildStart?: string;
  readonly buildEnd?: string;
  readonly testEnd?: string;
  readonly promotion?: string;
  readonly reached: string;
}

export function segmentsOf(m: Milestones): { total: number; segments: Record<Segment, number> } {
  const points = [m.commit, m.merge, m.buildStart, m.buildEnd, m.testEnd, m.promotion, m.reached];
  const end = Date.parse(m.reached);
  const ms: number[] = [];
  let prev = Date.parse(m.commit);
  for (const p of points) {
    const t = p === undefined ? prev : Math.min(Math.max(Date.parse(p), prev), end);
    ms.push(t);
    prev = t;
  }
  ms[ms.length - 1] = Math.max(end, ms[0]!);
  const segments = {} as Record<Segment, number>;
  SEGMENTS.forEach((s, i) => (segments[s] = (ms[i + 1]! - ms[i]!) / 1000));
  return { total: (ms[ms.length - 1]! - ms[0]!) / 1000, segments };
}

export interface Summary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly max: number | null;
  readonly sum: number;
}

/** Nearest-rank percentile (the value at rank ceil(q·n)). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    max: s.length ? s[s.length - 1]! : null,
    sum: s.reduce((a, b) => a + b, 0),
  };
}

interface Bottleneck {
  readonly segment: Segment;
  /** Share of the summed lead time, 0..1. */
  readonly share: number;
}

export interface GroupStats {
  readonly total: Summary;
  readonly segments: Record<Segment, Summary & { share: number }>;
  readonly bottleneck: { overall: Bottleneck | null; waiting: Bottleneck | null; working: Bottleneck | null };
}

export function groupStats(changes: ReadonlyArray<{ total: number; segments: Record<Segment, number> }>): GroupStats {
  const total = summarize(changes.map((c) => c.total));
  const segments = {} as GroupStats['segments'];
  for (const s of SEGMENTS) {
    const sum = summarize(changes.map((c) => c.segments[s]));
    segments[s] = { ...sum, share: total.sum > 0 ? sum.sum / total.sum : 0 };
  }
  const top = (list: readonly Segment[]): Bottleneck | null => {
    let best: Bottleneck | null = null;
    for (const s of list)
      if (segments[s].share > 0 && (!best || segments[s].share > best.share)) best = { segment: s, share: segments[s].share };
    return best;
  };
  return { total, segments, bottleneck: { overall: top(SEGMENTS), waiting: top(WAITING), working: top(WORKING) } };
}

/** Outcomes that count as a failed build, test run or deployment. */

export interface Deployment {
  readonly time: string;
  readonly failed: boolean;
  /** What was deployed to: an environment, else a product. */
  readonly service: string;
  /** Keys of the artifacts the deployment carried (an incident naming one of them is a failure it caused). */
  readonly artifacts?: readonly string[];
}

/**
 * An incident in production (CDEvents `incident.detected` / `incident.reported`,
 * ended by `incident.resolved`): `artifacts` are the artifacts it names as affected.
 */
export interface Incident {
  readonly id: string;
  readonly detected: string;
  readonly resolved?: string;
  readonly artifacts: readonly string[];
}

export interface Dora {
  readonly deployments: number;
  readonly deploymentFrequencyPerDay: number;
  readonly leadTimeForChangesSeconds: number | null;
  readonly changeFailureRate: number | null;
  readonly timeToRestoreSeconds: number | null;
}

/**
 * The four DORA figures over a window of `days`: deployments are the events of the chosen stage.
 * A deployment failed when its own outcome says so, or when an incident names an artifact it
 * carried (the latest such deployment at or before the incident is the one that caused it).
 * Time to restore: from a failed deployment to the next successful one of the same service,
 * and from an incident's detection to its resolution, for the incidents caused by these deployments.
 */
export function dora(
  deployments: readonly Deployment[],
  leadTimes: readonly number[],
  days: number,
  incidents: readonly Incident[] = [],
): Dora {
  const ok = deployments.filter((d) => !d.failed).length;
  const restores: number[] = [];
  const byService = new Map<string, Deployment[]>();
  for (const d of deployments) byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
  for (const list of byService.values()) {
    list.sort((a, b) => (a.time < b.time ? -1 : 1));
    let failedAt: number | undefined;
    for (const d of list) {
      if (d.failed) failedAt ??= Date.parse(d.time);
      else if (failedAt !== undefined) {
        restores.push((Date.parse(d.time) - failedAt) / 1000);
        failedAt = undefined;
      }
    }
  }
  const caused = new Set<Deployment>();
  for (const i of incidents) {
    const culprit = causeOf(i, deployments);
    if (!culprit) continue;
    caused.add(culprit);
    if (i.resolved !== undefined) restores.push(Math.max(0, (Date.parse(i.resolved) - Date.parse(i.detected)) / 1000));
  }
  const failed = deployments.filter((d) => d.failed || caused.has(d)).length;
  const sortedLead = [...leadTimes].sort((a, b) => a - b);
  return {
    deployments: ok,
    deploymentFrequencyPerDay: days > 0 ? ok / days : 0,
    leadTimeForChangesSeconds: percentile(sortedLead, 0.5),
    changeFailureRate: deployments.length ? failed / deployments.length : null,
    timeToRestoreSeconds: percentile(
      [...restores].sort((a, b) => a - b),
      0.5,
    ),
  };
}

/** The deployment an incident is blamed on: the latest one, at or before its detection, that carried an artifact it names. */
export function causeOf(incident: Incident, deployments: readonly Deployment[]): Deployment | undefined {
  const at = Date.parse(incident.detected);
  let best: Deployment | undefined;
  for (const d of deployments) {
    if (d.failed || Date.parse(d.time) > at || !d.artifacts?.some((a) => incident.artifacts.includes(a))) continue;
    if (!best || Date.parse(d.time) > Date.parse(best.time)) best = d;
  }
  return best;
}
