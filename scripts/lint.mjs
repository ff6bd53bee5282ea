// The quality gates, run first by `npm test` (and alone by `npm run lint`):
//   format  prettier --check (one style for the tree; `npm run format` applies it)
//   lint    typescript-eslint with type-aware rules (eslint.config.mjs says why each rule is there)
//   unused  knip: unused files, exports, types and dependencies (knip.json)
// Prints one line per gate and a closing `lint: N passed, N failed` line.
import { spawnSync } from 'node:child_process';
import { root, say } from './prepare.mjs';

const bin = (name) => `${root}node_modules/.bin/${name}`;
const GATES = [
  { name: 'format', cmd: bin('prettier'), args: ['--check', '--log-level=warn', '.'], fix: 'npm run format' },
  { name: 'lint', cmd: bin('eslint'), args: ['--max-warnings=0', '.'], fix: 'fix the code the rules name' },
  { name: 'unused', cmd: bin('knip'), args: ['--no-progress'], fix: 'remove what is unused, or use it' },
];

let passed = 0;
let failed = 0;
for (const g of GATES) {
  const started = Date.now();
  const r = spawnSync(g.cmd, g.args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status === 0) {
    passed++;
    process.stdout.write(`✔ ${g.name} (${secs} s)\n`);
  } else {
    failed++;
    // The tool's own report, indented: only the gate lines start with ✔ or ✖ (npm test counts them).
    const report = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/^/gm, '    ');
    process.stdout.write(`✖ ${g.name} (${secs} s): ${g.fix}\n${report}\n`);
  }
}
say(`lint: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
