#!/usr/bin/env node
// Parsing speed of the Eiffel reference stream on one core (a benchmark, not a test).
//
//   npm run build && node libs/events/bench/parse.bench.mjs [rounds] [dist dir]
//
// Parses every event of ../shared/fixtures/eiffel/reference-50.json as its own message, `rounds`
// times (default 20), after a warm-up round, and prints events per second. The dist dir defaults to
// ./dist (the root build); pass /tmp/events-dist for the library-only build.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const rounds = Number(process.argv[2] ?? 20);
const dist = resolve(process.argv[3] ?? 'dist');
const shared = process.env.NOT_SHARED_DIR ? resolve(process.env.NOT_SHARED_DIR) : resolve(process.cwd(), '..', 'shared');
const { parseMessage } = await import(pathToFileURL(join(dist, 'libs', 'events', 'src', 'index.js')).href);

const events = JSON.parse(readFileSync(join(shared, 'fixtures', 'eiffel', 'reference-50.json'), 'utf8'));
const enc = new TextEncoder();
const messages = events.map((e) => ({ body: enc.encode(JSON.stringify(e)), headers: {}, routingKey: 'site.lund.ci1.eiffel' }));
const options = { receivedAt: new Date() };

function round() {
  let ok = 0;
  for (const m of messages) if (parseMessage(m, options).ok) ok++;
  if (ok !== messages.length) throw new Error(`only ${ok} of ${messages.length} accepted`);
}

round();
const t0 = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) round();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const total = messages.length * rounds;
const bytes = messages.reduce((n, m) => n + m.body.byteLength, 0) * rounds;
process.stdout.write(
  `eiffel reference stream: ${total} events in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} events/s ` +
    `(${(bytes / seconds / 1048576).toFixed(1)} MiB/s, one core, node ${process.version})\n`,
);
