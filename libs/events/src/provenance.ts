/**
 * Builds by rule. Artifact provenance: artifact repositories' webhooks do not say which build produced an
 * artifact, but most organisations put the build into the artifact's version or path by convention
 * (`1.4.<build number>`, `raw/app/128/app.tgz`). A rule says that convention once, in the correlator's
 * configuration, and every artifact event then carries the `Build -PRODUCED-> Artifact` relation that
 * joins the artifact to the build's commit. The same kind of rule names the CI build behind a JFrog
 * build-info (`<platform host>/<build_name>#<build_number>`), which Artifactory's build webhooks do not say.
 */
import { buildKey, runKey } from './keys.js';
import type { ArtifactBuildRule, Entity, EntityRelation, TraceEvent } from './model.js';

interface CompiledRule {
  readonly match: RegExp;
  readonly rule: ArtifactBuildRule;
}

const compiled = new WeakMap<readonly ArtifactBuildRule[], CompiledRule[]>();

/** Problems with a rule, one message per problem (empty when the rule is usable). */
export function checkArtifactBuildRule(rule: ArtifactBuildRule): string[] {
  try {
    new RegExp(rule.match);
  } catch (e) {
    return [`match: not a valid regular expression (${(e as Error).message})`];
  }
  const groups = new Set([...rule.match.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!));
  const problems: string[] = [];
  if (rule.run === undefined ? rule.job === undefined || rule.number === undefined : rule.job !== undefined || rule.number !== undefined)
    problems.push('run: give either job and number (<ci>/<job>#<number>) or run (<ci>/run/<run>)');
  for (const field of ['ci', 'job', 'number', 'run'] as const) {
    for (const m of (rule[field] ?? '').matchAll(/\$<([^>]*)>/g)) {
      if (!groups.has(m[1]!))
        problems.push(`${field}: uses $<${m[1]}> but match has no group named "${m[1]}" (groups: ${[...groups].join(', ') || 'none'})`);
    }
  }
  return problems;
}

function compile(rules: readonly ArtifactBuildRule[]): CompiledRule[] {
  let c = compiled.get(rules);
  if (!c) {
    c = rules.map((rule) => ({ match: new RegExp(rule.match), rule }));
    compiled.set(rules, c);
  }
  return c;
}

function fill(template: string, groups: Record<string, string | undefined>): string {
  return template.replace(/\$<([^>]*)>/g, (_, name: string) => groups[name] ?? '');
}

/**
 * The build the first rule matching one of these keys names: the build that produced an artifact with these
 * keys (`artifactBuilds`), or the CI build a JFrog build-info describes (`buildInfoBuilds`).
 */
export function buildByRules(rules: readonly ArtifactBuildRule[], keys: readonly string[]): string | undefined {
  for (const { match, rule } of compile(rules)) {
    for (const key of keys) {
      const m = match.exec(key);
      if (!m) continue;
      const groups = m.groups ?? {};
      const ci = fill(rule.ci, groups);
      if (ci === '') continue;
      if (rule.run !== undefined) {
        const run = fill(rule.run, groups);
        if (run === '' || run.includes('/')) continue;
        return runKey(ci, run);
      }
      const number = fill(rule.number ?? '', groups);
      const job = fill(rule.job ?? '', groups);
      if (!/^\d+$/.test(number) || job === '') continue;
      return buildKey(ci, job, number);
    }
  }
  return undefined;
}

/** Adds `Build -PRODUCED-> Artifact` to events about artifacts that a rule says a build produced. */
export function applyArtifactBuilds(events: TraceEvent[], rules: readonly ArtifactBuildRule[] | undefined): TraceEvent[] {
  if (!rules || rules.length === 0) return events;
  return events.map((ev) => {
    const entities: Entity[] = [];
    const relations: EntityRelation[] = [];
    for (const ent of ev.entities) {
      if (ent.label !== 'Artifact') continue;
      const build = buildByRules(rules, [ent.key, ...(ent.aliases ?? [])]);
      if (!build) continue;
      const already = ev.relations.some((r) => r.type === 'PRODUCED' && r.to.key === ent.key && r.from.key === build);
      if (already) continue;
      if (!ev.entities.some((e) => e.label === 'Build' && e.key === build) && !entities.some((e) => e.key === build)) {
        entities.push({ label: 'Build', key: build, props: {} });
      }
      relations.push({ from: { label: 'Build', key: build }, type: 'PRODUCED', to: { label: 'Artifact', key: ent.key } });
    }
    return relations.length ? { ...ev, entities: [...ev.entities, ...entities], relations: [...ev.relations, ...relations] } : ev;
  });
}
