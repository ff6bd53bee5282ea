/**
 * Notification latency benchmark (`npm run bench:notify`): against the local mesh (deploy/local/mesh.yaml,
 * started if needed), subscribes a local webhook receiver to "a change of this run's repositories
 * reaches promotion", publishes Eiffel pipelines at both sites at a steady rate, and reports, per
 * change that reached promotion, the time from the publication at its site of the event that
 * completed the condition to the webhook's arrival: p50, p90, p99, max, and any firing missing or
 * delivered twice. Not a test: the figures depend on the machine and on what else runs on it.
 *
 *   --rate=200            events/s offered across both sites
 *   --seconds=60          how long events are published
 *   --config=<mesh.yaml>  another mesh
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadMesh, Mesh, publishToSite, type MeshStatus } from '@not/mesh';
import { eiffelPipeline, type Pipeline } from '../apps/explorer/src/testing/eiffel-pipeline.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const num = (name: string, fallback: number): number => {
  const v = Number(args.get(name) ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a number > 0`);
  return v;
};
const RATE = num('rate', 200);
const SECONDS = num('seconds', 60);
const log = (m: string): void => void process.stderr.write(`• ${m}\n`);
const run = `nb${randomBytes(3).toString('hex')}`;

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN;
}

async function main(): Promise<void> {
  const mesh = new Mesh(loadMesh(args.get('config')), log);
  let status: MeshStatus = await mesh.status();
  if (!status.explorer.up || !status.correlator.up) status = await mesh.up({});

  // The receiver: when each change's webhook arrived, and how many times.
  const arrived = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const f = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { change?: { commit: string } };
      if (f.change) arrived.set(f.change.commit, [...(arrived.get(f.change.commit) ?? []), at]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${status.explorer.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${status.explorer.token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const sub = await api<{ id: string }>('POST', '/api/v1/subscriptions', {
    name: `bench ${run}`,
    condition: { on: 'stage', stage: 'promotion', change: { repository: `git.example.com/explorer/shop-${run}` } },
    delivery: { type: 'webhook', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` },
  });

  // Steady publication: one pipeline per tick, site A's events then site B's (where the confidence
  // events that complete "promotion" are). A change's clock starts when site B's publication starts.
  const closedAt = new Map<string, number>();
  const perPipeline = eiffelPipeline('probe', Date.now()).events.length;
  const interval = (perPipeline / RATE) * 1000;
  const end = Date.now() + SECONDS * 1000;
  let sent = 0;
  let n = 0;
  log(`publishing ${RATE} events/s for ${SECONDS} s (${perPipeline} events per pipeline, a pipeline every ${interval.toFixed(0)} ms)`);
  const started = Date.now();
  while (Date.now() < end) {
    const t0 = Date.now();
    const p: Pipeline = eiffelPipeline(`${run}x${n++}`, Date.UTC(2034, 0, 1) + n * 3_600_000);
    const at = (s: 'a' | 'b') => p.events.filter((e) => e.site === s).map((e) => Buffer.from(JSON.stringify(e.event)));
    await publishToSite(status, 'site-a', 'ci', at('a'));
    const tb = Date.now();
    await publishToSite(status, 'site-b', 'ci', at('b'));
    for (const c of Object.values(p.commits)) if (c.times.promotion !== undefined) closedAt.set(`${p.repository}@${c.sha}`, tb);
    sent += p.events.length;
    await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - t0))));
  }
  const offered = sent / ((Date.now() - started) / 1000);
  log(`published ${sent} events (${offered.toFixed(0)} events/s); waiting for the last deliveries`);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && [...closedAt.keys()].some((k) => !arrived.has(k))) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3000));

  const latencies = [...closedAt]
    .filter(([k]) => arrived.has(k))
    .map(([k, t]) => (arrived.get(k)![0]! - t) / 1000)
    .sort((a, b) => a - b);
  const missing = [...closedAt.keys()].filter((k) => !arrived.has(k)).length;
  const twice = [...arrived.values()].filter((v) => v.length > 1).length;
  await api('DELETE', `/api/v1/subscriptions/${sub.id}`);
  server.close();
  const f = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
  process.stdout.write(
    [
      `offered: ${offered.toFixed(0)} events/s for ${SECONDS} s (${sent} events, ${closedAt.size} changes reaching promotion)`,
      `event at site B -> webhook: p50 ${f(quantile(latencies, 0.5))}, p90 ${f(quantile(latencies, 0.9))}, p99 ${f(quantile(latencies, 0.99))}, max ${f(latencies[latencies.length - 1] ?? NaN)}`,
      `delivered: ${latencies.length}, missing: ${missing}, delivered more than once: ${twice}`,
    ].join('\n') + '\n',
  );
  if (missing) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:notify failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
