import { loadMesh, Mesh } from '@not/mesh';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  alertRules,
  OPERATIONS_DOC,
  PROMETHEUS_DIR,
  renderRules,
  RULE_TESTS_DIR,
  ruleFiles,
  ruleGroups,
  RULES_DIR,
  ruleTestCoverage,
  run,
} from './support/ops.js';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const SEVERITIES = new Set(['critical', 'warning', 'info']);
const ENVIRONMENTS_DIR = join(PROMETHEUS_DIR, 'environments');

function assertOk(r: { status: number | null; output: string }, what: string): void {
  assert.equal(r.status, 0, `${what} failed:\n${r.output}`);
}

/** GitHub-style heading anchors of a Markdown file. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    assertOk(run(PROMTOOL, ['check', 'rules', ...ruleFiles().map((f) => join(RULES_DIR, f))]), 'promtool check rules');
  });

  it('pass their promtool unit tests, one file per rule group', () => {
    const groups = ruleGroups();
    const { files } = ruleTestCoverage();
    for (const file of ruleFiles()) {
      assert.equal(groups.filter((g) => g.file === file).length, 1, `${file} should hold exactly one group`);
      const testFile = file.replace(/\.rules\.yml$/, '.test.yml');
      assert.ok(files.includes(testFile), `deploy/prometheus/tests/${testFile} is missing for ${file}`);
      const doc = parse(readFileSync(join(RULE_TESTS_DIR, testFile), 'utf8')) as { rule_files: string[] };
      assert.deepEqual(
        doc.rule_files.map((f) => basename(f)),
        [file],
        `${testFile} should test ${file} only`,
      );
    }
    assert.equal(files.length, ruleFiles().length, 'a rule test file without a rule file');
    assertOk(run(PROMTOOL, ['test', 'rules', ...files.map((f) => join('tests', f))], PROMETHEUS_DIR), 'promtool test rules');
  });

  it('have a firing and a quiet unit test case for every alert', () => {
    const { firing, quiet } = ruleTestCoverage();
    const names = alertRules().map((r) => r.alert);
    assert.deepEqual([...new Set(names)].sort(), [...names].sort(), 'alert names must be unique');
    for (const name of names) {
      assert.ok(firing.has(name), `${name}: no promtool test case where it fires`);
      assert.ok(quiet.has(name), `${name}: no promtool test case where it stays quiet`);
    }
    const unknown = [...firing.keys(), ...quiet.keys()].filter((n) => !names.includes(n));
    assert.deepEqual(unknown, [], 'promtool tests name alerts that do not exist');
  });

  it('carry a severity, a summary, a description and a runbook link to an existing section of docs/operations.md', () => {
    const doc = anchors(readFileSync(OPERATIONS_DOC, 'utf8'));
    for (const r of alertRules()) {
      assert.ok(r.for, `${r.alert}: give it a for: duration`);
      assert.ok(SEVERITIES.has(r.labels?.severity ?? ''), `${r.alert}: severity must be one of ${[...SEVERITIES].join(', ')}`);
      assert.ok(r.annotations?.summary, `${r.alert}: summary annotation missing`);
      assert.ok(r.annotations?.description, `${r.alert}: description annotation missing`);
      assert.equal(r.annotations?.runbook_url, `docs/operations.md#${r.alert.toLowerCase()}`, `${r.alert}: runbook_url`);
      assert.ok(doc.has(r.alert.toLowerCase()), `${r.alert}: docs/operations.md has no "### ${r.alert}" section`);
    }
  });

  it('render for every environment, with its durations, into rules promtool accepts', () => {
    const envs = readdirSync(ENVIRONMENTS_DIR).filter((f) => f.endsWith('.yaml'));
    assert.ok(envs.includes('production.yaml'), 'environments/production.yaml is missing');
    for (const env of envs) {
      const out = mkdtempSync(join(tmpdir(), 'not-rules-'));
      const envFile = join(ENVIRONMENTS_DIR, env);
      assertOk(renderRules(out, envFile), `render-rules --env ${env}`);
      assertOk(run(PROMTOOL, ['check', 'rules', ...readdirSync(out).map((f) => join(out, f))]), `promtool check rules (${env})`);
      const wanted = ((parse(readFileSync(envFile, 'utf8')) as { for?: Record<string, string> } | null)?.for ?? {}) as Record<
        string,
        string
      >;
      for (const file of readdirSync(out)) {
        const doc = parse(readFileSync(join(out, file), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string }> }> };
        for (const r of doc.groups.flatMap((g) => g.rules)) {
          const source = alertRules().find((a) => a.alert === r.alert);
          if (r.alert) assert.equal(r.for, wanted[r.alert] ?? source?.for, `${env}: ${r.alert} for:`);
        }
      }
    }
  });

  it('refuse to render an override for an alert that does not exist', () => {
    const out = mkdtempSync(join(tmpdir(), 'not-rules-'));
    const r = run(process.execPath, [join(PROMETHEUS_DIR, 'render-rules.mjs'), '--for', 'NoSuchAlert=5m', '--out', out]);
    assert.equal(r.status, 2);
    assert.match(r.output, /NoSuchAlert: no alert of that name/);
  });

  it('load, with the scrape configs, through promtool check config (deployment and local mesh)', () => {
    assertOk(
      run(PROMTOOL, ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')]),
      'promtool check config deploy/prometheus/prometheus.yml',
    );
    const dir = mkdtempSync(join(tmpdir(), 'not-prom-'));
    assertOk(renderRules(join(dir, 'rules')), 'render-rules');
    const config = new Mesh(loadMesh('test/mesh.test.yaml')).prometheusConfig() as { rule_files: string[] };
    assert.ok(
      config.rule_files.some((f) => f.endsWith(join('prometheus', 'rules', '*.rules.yml'))),
      'the mesh config loads the copied rules',
    );
    writeFileSync(join(dir, 'prometheus.yml'), stringify({ ...config, rule_files: [join(dir, 'rules', '*.rules.yml')] }));
    const r = run(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')]);
    assertOk(r, 'promtool check config (local mesh)');
    assert.match(r.output, new RegExp(`SUCCESS: ${ruleFiles().length} rule files found`));
  });
});
