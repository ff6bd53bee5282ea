import { FAILED_OUTCOMES } from '@not/events';
import type { DeliveryEventRow } from '@not/graph';
import type { Deployment } from './lead-time.stats.js';

/**
 * Deployments and releases as the delivery figures count them, from the events of the stage (pure).
 * See docs/explorer.md, "Deployments and environments".
 */

/** One deployment (or release): the events that make it up and what it carried. */
export interface DeploymentRecord extends Deployment {
  /** The tool's deployment (`<format>|<repository>|<deployment id>`), else the event's id. */
  readonly key: string;
  /** The events of the deployment, oldest first; the last is the one that finished it. */
  readonly events: readonly string[];
  readonly site: string;
  readonly environment: string | null;
  readonly rollback: boolean;
  readonly artifacts: readonly string[];
  readonly commits: readonly string[];
}

const ROLLED_BACK = /^dev\.cdevents\.service\.rolledback\./;

/** `pkg:oci/checkout@sha256:…` -> `pkg:oci/checkout` (what was deployed, not which version). */
function packageOf(purl: string): string {
  const at = purl.lastIndexOf('@');
  return (at > 0 ? purl.slice(0, at) : purl).replace(/\?.*$/, '');
}

/**
 * The deployments among a window's deployment events. The events of one tool deployment (GitHub's
 * `deployment` then its statuses, GitLab's statuses of one `deployment_id`) are one deployment; it
 * counts once it has finished (an event with an outcome or the `finished` phase), at the time and
 * with the outcome of its last such event; it failed when that outcome failed or when the activity one of
 * its events ran in (an Eiffel deploy activity) finished failed. Removals (`service.removed`) are not deployments.
 * Its environment is the first one its events name; its service the one the event names (CDEvents),
 * else the repository of the deployed commit, else the package of the deployed artifact, else the site.
 * A CDEvents `service.rolledback` is a rollback; so is a deployment that brings back a version (the
 * same artifacts, or the same commits) deployed earlier in the window to the same service and
 * environment, other than the one running there.
 */
export function deploymentsOf(rows: readonly DeliveryEventRow[]): DeploymentRecord[] {
  const groups = new Map<string, DeliveryEventRow[]>();
  for (const r of rows) {
    if (r.stage !== 'deployment') continue;
    const repo = r.commits[0]?.repository ?? '';
    const key = r.deploymentId !== null ? `${r.format}|${repo}|${r.deploymentId}` : r.id;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: DeploymentRecord[] = [];
  for (const [key, list] of groups) {
    list.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
    const done = list.filter((r) => r.outcome !== null || r.phase === 'finished');
    const last = done[done.length - 1];
    if (!last || last.phase === 'deleted') continue;
    const environment = list.flatMap((r) => r.environments)[0] ?? null;
    const artifacts = [...new Set(list.flatMap((r) => r.artifacts.map((a) => a.key)))].sort();
    const commits = [...new Set(list.flatMap((r) => r.commits.map((c) => c.key)))].sort();
    const purl = list.flatMap((r) => r.artifacts).find((a) => a.purl)?.purl;
    const service =
      list.find((r) => r.service)?.service ??
      list.flatMap((r) => r.commits).find((c) => c.repository)?.repository ??
      (purl ? packageOf(purl) : undefined) ??
      last.site;
    out.push({
      key,
      events: list.map((r) => r.id),
      time: last.time,
      site: last.site,
      failed: FAILED_OUTCOMES.has(last.outcome ?? '') || list.some(activityFailed),
      service,
      environment,
      rollback: list.some((r) => ROLLED_BACK.test(r.type)),
      artifacts,
      commits,
    });
  }
  return markRedeploys(out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.key < b.key ? -1 : 1)));
}

/** A successful deployment of a version seen earlier on its target, other than the running one, is a rollback. */
function markRedeploys(list: readonly DeploymentRecord[]): DeploymentRecord[] {
  const seen = new Map<string, { running?: string; earlier: Set<string> }>();
  return list.map((d) => {
    const version = d.artifacts.length ? `a:${d.artifacts.join(',')}` : d.commits.length ? `c:${d.commits.join(',')}` : undefined;
    if (d.failed || version === undefined) return d;
    const t = `${d.environment ?? ''}\u0000${d.service}`;
    const s = seen.get(t) ?? { earlier: new Set<string>() };
    seen.set(t, s);
    const back = !d.rollback && s.running !== undefined && version !== s.running && s.earlier.has(version);
    if (s.running !== undefined) s.earlier.add(s.running);
    s.running = version;
    return back ? { ...d, rollback: true } : d;
  });
}

/** Releases among a window's release events: each one that is not part of another release (a nested composition). */
export function releasesOf(rows: readonly DeliveryEventRow[]): DeploymentRecord[] {
  return rows
    .filter((r) => r.stage === 'release' && !r.nested)
    .map((r) => ({
      key: r.id,
      events: [r.id],
      time: r.time,
      site: r.site,
      failed: FAILED_OUTCOMES.has(r.outcome ?? ''),
      service: r.site,
      environment: null,
      rollback: false,
      artifacts: r.artifacts.map((a) => a.key).sort(),
      commits: r.commits.map((c) => c.key).sort(),
    }));
}

/**
 * Whether an environment is a production one: matches one of the patterns (`*` any characters,
 * case-insensitive, whole name).
 */
export function isProduction(environment: string | null | undefined, patterns: readonly string[]): boolean {
  if (!environment) return false;
  return patterns.some((p) => globRegExp(p).test(environment));
}

function globRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/** A deployment event that takes a change into an environment: finished, not failed (nor its deploy job), not a removal or a rollback. */
export function deliversChange(r: DeliveryEventRow): boolean {
  return (
    (r.phase === 'finished' || r.outcome !== null) &&
    !FAILED_OUTCOMES.has(r.outcome ?? '') &&
    !activityFailed(r) &&
    !ROLLED_BACK.test(r.type)
  );
}

/** The activity (deploy job) the event ran in failed. */
function activityFailed(r: DeliveryEventRow): boolean {
  return r.activityOutcomes.some((o) => FAILED_OUTCOMES.has(o));
}
