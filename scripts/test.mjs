// `npm test`: install what is missing, start what the tests need, run every tier
// (unit, integration against real RabbitMQ and Neo4j, e2e against the local mesh),
// stop what it started, and print one summary line.
//   npm test                 all tiers
//   npm test -- unit         one tier (lint | unit | integration | ops | e2e | cluster)
// The cluster tier runs on a mesh of its own (central as three clustered nodes, test/mesh.cluster.test.yaml).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { prepare, root, say, traces } from './prepare.mjs';

const TIERS = {
  // The quality gates first: formatting, type-aware lint, unused code (scripts/lint.mjs).
  lint: { script: 'scripts/lint.mjs', needsMesh: false },
  // Unit specs share nothing (no mesh, no ports), so their files run side by side.
  unit: { dirs: ['dist/libs', 'dist/apps'], suffix: '.spec.js', needsMesh: false, concurrency: availableParallelism() },
  integration: { dirs: ['dist/test/integration'], suffix: '.test.js', needsMesh: true },
  ops: { dirs: ['dist/test/ops'], suffix: '.test.js', needsMesh: true },
  e2e: { dirs: ['dist/test/e2e'], suffix: '.test.js', needsMesh: true },
  cluster: { dirs: ['dist/test/cluster'], suffix: '.test.js', needsMesh: true, cluster: true },
};
// Another mesh file (other ports and state folder) lets two checkouts test side by side.
const TEST_MESH = process.env.NOT_TEST_MESH || 'test/mesh.test.yaml';
const CLUSTER_MESH = process.env.NOT_CLUSTER_MESH || 'test/mesh.cluster.test.yaml';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const t of wanted) {
  if (!(t in TIERS)) {
    say(`unknown tier "${t}": use ${Object.keys(TIERS).join(', ')}`);
    process.exit(2);
  }
}
const tiers = wanted.length ? wanted : Object.keys(TIERS);

function files(dir, suffix) {
  const abs = join(root, dir);
  let entries;
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries
    .flatMap((e) => {
      const p = join(abs, e);
      if (statSync(p).isDirectory()) return files(relative(root, p), suffix);
      return e.endsWith(suffix) ? [relative(root, p)] : [];
    })
    .sort();
}

function runLint() {
  return new Promise((done) => {
    say('lint: format, type-aware lint, unused code');
    const child = spawn(process.execPath, [join(root, TIERS.lint.script)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => {
      const pass = (out.match(/^✔ /gm) ?? []).length;
      const fail = (out.match(/^✖ /gm) ?? []).length;
      done({ code, pass, fail: code !== 0 && fail === 0 ? 1 : fail, skipped: 0 });
    });
  });
}

function runTier(name, list, meshFile, concurrency = 1) {
  // Outside the promise: its `resolve` would shadow path.resolve.
  const meshPath = resolve(root, meshFile);
  return new Promise((done) => {
    say(`${name}: ${list.length} test file(s)`);
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...list],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NOT_TEST_MESH: meshPath },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => {
      const count = (label) => Number(new RegExp(`^ℹ ${label} (\\d+)`, 'm').exec(out)?.[1] ?? 0);
      done({ code, pass: count('pass'), fail: count('fail'), skipped: count('skipped') + count('todo') });
    });
  });
}

prepare();
let pass = 0;
let fail = 0;
let skipped = 0;
/** The mesh file of the mesh that is up, if any. */
let meshUp;
let failedTier = false;
try {
  for (const tier of tiers) {
    const spec = TIERS[tier];
    if (spec.script) {
      const r = await runLint();
      pass += r.pass;
      fail += r.fail;
      continue;
    }
    const list = spec.dirs.flatMap((d) => files(d, spec.suffix));
    if (list.length === 0) {
      say(`${tier}: no test files found`);
      failedTier = true;
      continue;
    }
    const meshFile = spec.cluster ? CLUSTER_MESH : TEST_MESH;
    if (spec.needsMesh && meshUp !== meshFile) {
      if (meshUp) traces(['mesh', 'down', '--config', meshUp, '--purge'], 'stopping the test mesh');
      // Always a fresh one: a test mesh left up (by a benchmark, or a run stopped half-way) may hold a
      // graph the tests do not expect, such as more events than the explorer's scan limits.
      else traces(['mesh', 'down', '--config', meshFile, '--purge'], 'clearing a test mesh left from before');
      say(`starting the test mesh ${meshFile} (RabbitMQ nodes, Neo4j, Prometheus, the three apps)`);
      traces(['mesh', 'up', '--config', meshFile], 'starting the test mesh');
      meshUp = meshFile;
    }
    const r = await runTier(tier, list, meshFile, spec.concurrency);
    pass += r.pass;
    fail += r.fail;
    skipped += r.skipped;
    if (r.code !== 0 && r.fail === 0) failedTier = true;
  }
} finally {
  if (meshUp) {
    say('stopping the test mesh');
    traces(['mesh', 'down', '--config', meshUp, '--purge'], 'stopping the test mesh');
  }
}
process.stdout.write(`\ntests: ${pass} passed, ${fail} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(fail > 0 || failedTier ? 1 : 0);
