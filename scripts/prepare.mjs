// Shared by `npm start` and `npm test`: install npm dependencies when missing or stale, then build.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

export function say(message) {
  process.stderr.write(`• ${message}\n`);
}

export function run(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    say(`${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

export function prepare() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    say('installing npm dependencies (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  }
  say('building (tsc)');
  run('npm', ['run', '--silent', 'build'], 'the build');
}

export function traces(args, what, opts) {
  run(process.execPath, [join(root, 'bin', 'traces.js'), ...args], what, opts);
}
