#!/usr/bin/env node
// The `traces` command: runs the compiled CLI (npm run build makes it).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('traces: the project is not built yet; run "npm run build" (or "npm start") in ' + root + '\n');
  process.exit(1);
}
process.chdir(root);
await import(main);
