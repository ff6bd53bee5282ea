import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config.error.js';

export interface LoadOptions {
  /** The environment used for `${NAME}` references (secrets); defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads a YAML file, expands `${NAME}` / `${NAME:-default}` references from the
 * environment, and validates it. Every problem is reported at once with its
 * path in the file (`sources[2].exchange: required`).
 */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S, options: LoadOptions = {}): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError(file, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
  return validateConfig(raw, schema, file, options);
}

/** Validates an already-parsed value (expanding `${NAME}` references in strings first). */
export function validateConfig<S extends z.ZodType>(raw: unknown, schema: S, source: string, options: LoadOptions = {}): z.output<S> {
  const env = options.env ?? process.env;
  const missing: string[] = [];
  const expanded = expandEnv(raw, env, [], missing);
  const result = schema.safeParse(expanded ?? {});
  const problems = [...missing];
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${formatPath(issue.path) || '(top level)'}: ${describeIssue(issue)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return (result as { data: z.output<S> }).data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function expandEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, path: PropertyKey[], missing: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(REF, (_whole, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push(`${formatPath(path)}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, [...path, i], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expandEnv(v, env, [...path, k], missing)]),
    );
  }
  return value;
}
