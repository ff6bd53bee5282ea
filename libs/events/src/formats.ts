import type { ParseContext } from './context.js';
import { parseEiffel, looksLikeEiffel } from './eiffel/eiffel.parser.js';
import { fail } from './errors.js';
import { parseJenkins } from './jenkins/jenkins.parser.js';
import { parseGitHook } from './vcs/git-hook.parser.js';
import { parseGitea, parseGithub } from './vcs/github.parser.js';
import { parseGitlab } from './vcs/gitlab.parser.js';
import { isObject, type Json } from './json.js';
import type { Format, TraceEvent } from './model.js';

export type FormatParser = (ctx: ParseContext, body: Json) => TraceEvent[];

function notYet(format: Format): FormatParser {
  return () => fail(`the ${format} format is not supported by this version of the parser`, 'routingKey');
}

/** One parser per format; a `Record` over `Format` so that adding a format without a parser does not compile. */
export const FORMAT_PARSERS: Readonly<Record<Format, FormatParser>> = {
  eiffel: parseEiffel,
  cdevents: notYet('cdevents'),
  jenkins: parseJenkins,
  gerrit: notYet('gerrit'),
  github: parseGithub,
  gitlab: parseGitlab,
  gitea: parseGitea,
  'git-hook': parseGitHook,
  nexus: notYet('nexus'),
  artifactory: notYet('artifactory'),
  verdaccio: notYet('verdaccio'),
};

/** A best guess at what format a body really is, to explain a rejection; undefined when unsure. */
export function sniffFormat(body: Json, headers: Readonly<Record<string, unknown>>): Format | undefined {
  if (looksLikeEiffel(body)) return 'eiffel';
  const h = (name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);
  if (h('x-github-event')) return 'github';
  if (h('x-gitlab-event')) return 'gitlab';
  if (h('x-gitea-event')) return 'gitea';
  if (h('ce-specversion') || h('cloudevents:specversion') || h('cloudevents_specversion')) return 'cdevents';
  if (!isObject(body)) return undefined;
  const ctx = body['context'];
  if (isObject(ctx) && (typeof ctx['specversion'] === 'string' || String(ctx['type'] ?? '').startsWith('dev.cdevents'))) return 'cdevents';
  if (typeof body['type'] === 'string' && String(body['type']).startsWith('dev.cdevents')) return 'cdevents';
  if (typeof body['object_kind'] === 'string') return 'gitlab';
  if ('build_job_name' in body && 'state' in body) return 'jenkins';
  if (typeof body['type'] === 'string' && ('change' in body || 'refUpdate' in body || 'patchSet' in body)) return 'gerrit';
  if (typeof body['repository'] === 'string' && typeof body['ref'] === 'string' && Array.isArray(body['commits'])) return 'git-hook';
  if (typeof body['nodeId'] === 'string' && ('asset' in body || 'component' in body)) return 'nexus';
  if (typeof body['domain'] === 'string' && typeof body['event_type'] === 'string') return 'artifactory';
  return undefined;
}
