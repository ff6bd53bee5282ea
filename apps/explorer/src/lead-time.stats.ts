/**
 * Lead-time arithmetic, pure: percentiles of the segments (`lead-time.segments.ts`), the bottleneck
 * and the DORA figures. Times are ISO strings in, seconds out.
 */

import { SEGMENTS, type Segment } from './lead-time.segments.js';

const WAITING: readonly Segment[] = ['waiting-for-build', 'waiting-for-promotion'];
const WORKING: readonly Segment[] = ['coding', 'build', 'test', 'promotion-to-release'];

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

export interface Deployment {
  readonly time: string;
  /** Its own outcome was a failure (GitHub `deployment_status` failure / error, GitLab `failed`, …). */
  readonly failed: boolean;
  /** What was deployed: the service (CDEvents `service`, else the repository or package deployed), else a site. */
  readonly service: string;
  /** Where it was deployed, when known; restores and rollbacks pair deployments of one service in one environment. */
  readonly environment?: string | null;
  /** It brought back what ran before (CDEvents `service.rolledback`, or a redeploy of an earlier version): not a deployment. */
  readonly rollback?: boolean;
  /** Keys of the artifacts the deployment carried (an incident naming one of them is a failure it caused). */
  readonly artifacts?: readonly string[];
}

/**
 * An incident in production (CDEvents `incident.detected` / `incident.reported`,
 * ended by `incident.resolved`): `artifacts` are the artifacts it names as affected,
 * `service` and `environments` the service and environment it names.
 */
export interface Incident {
  readonly id: string;
  readonly detected: string;
  readonly resolved?: string;
  readonly artifacts: readonly string[];
  readonly service?: string;
  readonly environments?: readonly string[];
}

export interface Dora {
  /** Successful deployments (rollbacks are not deployments). */
  readonly deployments: number;
  readonly deploymentFrequencyPerDay: number;
  readonly leadTimeForChangesSeconds: number | null;
  readonly changeFailureRate: number | null;
  readonly timeToRestoreSeconds: number | null;
  /** Rollbacks in the window; each one fails the deployment it reverted. */
  readonly rollbacks: number;
}

const target = (d: Deployment): string => `${d.environment ?? ''}\u0000${d.service}`;
const at = (t: string): number => Date.parse(t);

/**
 * The four DORA figures over a window of `days`.
 *
 * - Rollbacks are set apart: they are not deployments, and each one fails the deployment it
 *   reverted (the latest deployment of the same service in the same environment before it),
 *   unless that one had already failed on its own.
 * - A deployment failed when its own outcome says so, when it was rolled back, or when an incident
 *   is blamed on it ({@link causeOf}).
 * - Time to restore: from a deployment that failed on its own to the next successful deployment or
 *   rollback of the same service in the same environment; from a rolled-back deployment to its
 *   rollback (when no incident is blamed on it); from a blamed incident's detection to its resolution.
 */
export function dora(all: readonly Deployment[], leadTimes: readonly number[], days: number, incidents: readonly Incident[] = []): Dora {
  const deployments = all.filter((d) => !d.rollback);
  const ok = deployments.filter((d) => !d.failed).length;
  const caused = new Map<Deployment, Incident[]>();
  for (const i of incidents) {
    const culprit = causeOf(i, deployments);
    if (culprit) caused.set(culprit, [...(caused.get(culprit) ?? []), i]);
  }
  const restores: number[] = [];
  const rolledBack = new Set<Deployment>();
  const byTarget = new Map<string, Deployment[]>();
  for (const d of all) byTarget.set(target(d), [...(byTarget.get(target(d)) ?? []), d]);
  for (const list of byTarget.values()) {
    list.sort((a, b) => at(a.time) - at(b.time));
    let failedAt: number | undefined;
    let last: Deployment | undefined;
    for (const d of list) {
      if (d.rollback) {
        if (failedAt === undefined && last && !last.failed && !rolledBack.has(last)) {
          rolledBack.add(last);
          if (!caused.has(last)) restores.push((at(d.time) - at(last.time)) / 1000);
        }
      } else {
        last = d;
        if (d.failed) {
          failedAt ??= at(d.time);
          continue;
        }
      }
      if (failedAt !== undefined && !d.failed) {
        restores.push((at(d.time) - failedAt) / 1000);
        failedAt = undefined;
      }
    }
  }
  for (const list of caused.values())
    for (const i of list) if (i.resolved !== undefined) restores.push(Math.max(0, (at(i.resolved) - at(i.detected)) / 1000));
  const failed = deployments.filter((d) => d.failed || caused.has(d) || rolledBack.has(d)).length;
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
    rollbacks: all.length - deployments.length,
  };
}

/** Whether an incident's service names a deployment's service: the same, or its last path segment (`checkout` for `github.com/acme/checkout`). */
function sameService(named: string, deployed: string): boolean {
  const a = named.trim().toLowerCase();
  const b = deployed.trim().toLowerCase();
  return a === b || b.endsWith(`/${a}`);
}

/**
 * The deployment an incident is blamed on: the latest successful one at or before its detection that
 * carried an artifact it names; for an incident that names no artifact, the latest one of the service it
 * names. When the incident names environments, only deployments to one of them (or of unknown
 * environment) are candidates. Rollbacks are never blamed.
 */
export function causeOf(incident: Incident, deployments: readonly Deployment[]): Deployment | undefined {
  const detected = at(incident.detected);
  const envs = incident.environments ?? [];
  const matches = (d: Deployment): boolean => {
    if (incident.artifacts.length) return d.artifacts?.some((a) => incident.artifacts.includes(a)) ?? false;
    return incident.service !== undefined && sameService(incident.service, d.service);
  };
  let best: Deployment | undefined;
  for (const d of deployments) {
    if (d.failed || d.rollback || at(d.time) > detected || !matches(d)) continue;
    if (envs.length && d.environment && !envs.includes(d.environment)) continue;
    if (!best || at(d.time) > at(best.time)) best = d;
  }
  return best;
}
