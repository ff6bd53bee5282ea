import type { ParseContext } from './context.js';
import { looksLikeCdevents, parseCdevents } from './cdevents/cdevents.parser.js';
import { parseEiffel, looksLikeEiffel } from './eiffel/eiffel.parser.js';
import { parseGerrit } from './gerrit/gerrit.parser.js';
import { parseArtifactory } from './artifacts/artifactory.parser.js';
import { parseNexus } from './artifacts/nexus.parser.js';
import { parseVerdaccio } from './artifacts/verdaccio.parser.js';
import { parseJenkins } from './jenkins/jenkins.parser.js';
import { parseJira } from './jira/jira.parser.js';
import { parseGitHook } from './vcs/git-hook.parser.js';
import { parseGitea, parseGithub } from './vcs/github.parser.js';
import { parseGitlab } from './vcs/gitlab.parser.js';
import { isObject, type Json } from './json.js';
import type { Format, TraceEvent } from './model.js';

export type FormatParser = (ctx: ParseContext, body: Json) => TraceEvent[];

/** One parser per format; a `Record` over `Format` so that adding a format without a parser does not compile. */
export const FORMAT_PARSERS: Readonly<Record<Format, FormatParser>> = {
  eiffel: parseEiffel,
  cdevents: parseCdevents,
  jenkins: parseJenkins,
  gerrit: parseGerrit,
  github: parseGithub,
  gitlab: parseGitlab,
  gitea: parseGitea,
  'git-hook': parseGitHook,
  nexus: parseNexus,
  artifactory: parseArtifactory,
  verdaccio: parseVerdaccio,
  jira: parseJira,
};

/** A best guess at what format a body really is, to explain a rejection; undefined when unsure. */
export function sniffFormat(body: Json, headers: Readonly<Record<string, unknown>>): Format | undefined {
  if (looksLikeEiffel(body)) return 'eiffel';
  const h = (name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);
  if (h('x-github-event')) return 'github';
  if (h('x-gitlab-event')) return 'gitlab';
  if (h('x-gitea-event')) return 'gitea';
  if (h('x-nexus-webhook-id')) return 'nexus';
  if (h('x-atlassian-webhook-identifier')) return 'jira';
  if (h('ce-specversion') || h('ce_specversion') || h('cloudevents:specversion') || h('cloudevents_specversion')) return 'cdevents';
  if (looksLikeCdevents(body)) return 'cdevents';
  if (!isObject(body)) return undefined;
  if (typeof body['object_kind'] === 'string') return 'gitlab';
  if (typeof body['webhookEvent'] === 'string') return 'jira';
  if ('build_job_name' in body && 'state' in body) return 'jenkins';
  if (typeof body['type'] === 'string' && ('change' in body || 'refUpdate' in body || 'patchSet' in body)) return 'gerrit';
  if (typeof body['repository'] === 'string' && typeof body['ref'] === 'string' && Array.isArray(body['commits'])) return 'git-hook';
  if (typeof body['nodeId'] === 'string' && ('asset' in body || 'component' in body)) return 'nexus';
  if (typeof body['domain'] === 'string' && typeof body['event_type'] === 'string') return 'artifactory';
  if (typeof body['name'] === 'string' && (typeof body['publishedPackage'] === 'string' || isObject(body['dist']))) return 'verdaccio';
  return undefined;
}
