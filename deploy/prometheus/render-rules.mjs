#!/usr/bin/env node
// Renders the alert rules for one environment: the same rules as rules/*.rules.yml,
// with the environment's `for:` durations and an absolute runbook link base.
//
//   node deploy/prometheus/render-rules.mjs --env deploy/prometheus/environments/production.yaml --out /etc/prometheus/rules
//   node deploy/prometheus/render-rules.mjs --for TracesSiteLinkDown=10m --out ./rules
//
// The environment file (YAML):
//   runbookBase: https://git.example.com/network-of-traces/-/blob/main/   # prefixed to each runbook_url
//   for:                                                                 # alert name -> duration
//     TracesSiteLinkDown: 10m
// An alert name that is not in the rules, or a malformed duration, is an error (exit 2).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function usage(message) {
  process.stderr.write(`render-rules: ${message}\nusage: render-rules.mjs [--env FILE] [--for ALERT=DURATION]... [--rules DIR] --out DIR\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let envFile;
let out;
let rulesDir = join(here, 'rules');
const overrides = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => args[++i] ?? usage(`${a} needs a value`);
  if (a === '--env') envFile = value();
  else if (a === '--out') out = value();
  else if (a === '--rules') rulesDir = value();
  else if (a === '--for') {
    const [name, duration] = value().split('=');
    if (!name || !duration) usage('--for takes ALERT=DURATION');
    overrides[name] = duration;
  } else usage(`unknown argument ${a}`);
}
if (!out) usage('--out is required');

let runbookBase = '';
if (envFile) {
  const env = parse(readFileSync(envFile, 'utf8')) ?? {};
  runbookBase = env.runbookBase ?? '';
  Object.assign(overrides, { ...(env.for ?? {}), ...overrides });
}

const problems = [];
for (const [name, d] of Object.entries(overrides)) {
  if (!DURATION.test(String(d))) problems.push(`${name}: "${d}" is not a Prometheus duration (like 30s, 5m, 1h30m)`);
}

const files = readdirSync(rulesDir).filter((f) => f.endsWith('.rules.yml')).sort();
const seen = new Set();
const rendered = [];
for (const file of files) {
  const doc = parseDocument(readFileSync(join(rulesDir, file), 'utf8'));
  const groups = doc.get('groups');
  for (const group of groups?.items ?? []) {
    for (const rule of group.get('rules')?.items ?? []) {
      const name = rule.get('alert');
      if (!name) continue;
      seen.add(name);
      if (name in overrides) rule.set('for', String(overrides[name]));
      const annotations = rule.get('annotations');
      const link = annotations?.get('runbook_url');
      if (link && runbookBase && !/^https?:\/\//.test(link)) annotations.set('runbook_url', `${runbookBase.replace(/\/?$/, '/')}${link}`);
    }
  }
  rendered.push([file, doc.toString({ lineWidth: 0 })]);
}
for (const name of Object.keys(overrides)) if (!seen.has(name)) problems.push(`${name}: no alert of that name in ${rulesDir}`);
if (problems.length) usage(`\n  ${problems.join('\n  ')}`);

mkdirSync(resolve(out), { recursive: true });
for (const [file, text] of rendered) writeFileSync(join(resolve(out), file), text);
process.stdout.write(`rendered ${rendered.length} rule file(s) into ${resolve(out)}\n`);
