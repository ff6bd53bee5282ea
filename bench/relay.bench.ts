/**
 * Relay benchmark (`npm run bench:relay`): against the local mesh
 * (deploy/local/mesh.yaml, or --config=FILE; started if needed), measures on
 * the first site's RabbitMQ node and the central node:
 *   (a) raw RabbitMQ: publish (confirms) → consume on one node, for the site and
 *       for central — the ceiling each hop of the relay path has;
 *   (b) one shovel: events published with confirms at the site exchange, counted
 *       when consumed at central (buffer queue → shovel on-confirm → central exchange);
 *       and again with keepRoutingKey (intake queue → dead-lettered into the buffer → shovel);
 *   (c) one federation link, the same way (upstream + policy + central shovel);
 *   (d) webhooks: POST → 202 (after the site broker's confirm) with a concurrency
 *       level, beside the raw figure for the same confirmed single-message publishes.
 * Central is a vhost of its own, so the mesh's correlator takes no part.
 * Prints a table and the command to reproduce. Not a test: figures depend on the machine.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { validateConfig } from '@not/config';
import { BrokerAdmin } from '@not/messaging';
import { loadMesh, Mesh, type MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { ReconcileService } from '../apps/relay/src/reconcile.service.js';
import { relayConfigSchema, RelaySettings } from '../apps/relay/src/relay.config.js';
import { RelayMetrics } from '../apps/relay/src/relay.metrics.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const CONFIG = args.get('config') ?? 'deploy/local/mesh.yaml';
const EVENTS = Number(args.get('events') ?? 50_000);
const SIZE = Number(args.get('size') ?? 1024);
const REQUESTS = Number(args.get('requests') ?? 10_000);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const HTTP_PORT = Number(args.get('port') ?? 8985);
const WINDOW = 1000;

const log = (m: string): void => void process.stderr.write(`• ${m}\n`);

/** A JSON body of about SIZE bytes (an Eiffel-shaped event with padding). */
function body(i: number): Buffer {
  const head = {
    meta: { id: randomUUID(), type: 'EiffelActivityTriggeredEvent', time: Date.now(), version: '4.0.0' },
    data: { name: `bench ${i}` },
    links: [],
  };
  const pad = Math.max(0, SIZE - JSON.stringify(head).length - 12);
  return Buffer.from(JSON.stringify({ ...head, pad: 'x'.repeat(pad) }));
}

/** Publishes n bodies with confirms, WINDOW outstanding at most; resolves with the publish rate. */
async function publishAll(url: string, exchange: string, routingKey: (i: number) => string, n: number): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    const t0 = performance.now();
    for (let i = 0; i < n; i += WINDOW) {
      for (let j = i; j < Math.min(n, i + WINDOW); j++)
        ch.publish(exchange, routingKey(j), body(j), { persistent: true, contentType: 'application/json' });
      await ch.waitForConfirms();
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await conn.close();
  }
}

/** Consumes until n messages arrived; resolves with the time the last one came. */
async function consumeUntil(
  url: string,
  queue: string,
  n: number,
  timeoutMs = 600_000,
): Promise<{ done: Promise<number>; close: () => Promise<void> }> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(2000);
  let got = 0;
  const done = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got} of ${n} messages arrived at ${queue} within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    void ch.consume(queue, (m) => {
      if (!m) return;
      got++;
      if (got % 500 === 0 || got >= n) ch.ack(m, true);
      if (got >= n) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    });
  });
  return { done, close: () => conn.close().catch(() => undefined) };
}

/** publish at `pubUrl` → consumed from `queue` at `subUrl`: end-to-end events/s and the publish rate. */
async function endToEnd(
  pubUrl: string,
  exchange: string,
  key: (i: number) => string,
  subUrl: string,
  queue: string,
  n: number,
): Promise<{ eps: number; publishEps: number }> {
  const consumer = await consumeUntil(subUrl, queue, n);
  const t0 = performance.now();
  try {
    const publishEps = await publishAll(pubUrl, exchange, key, n);
    const last = await consumer.done;
    return { eps: n / ((last - t0) / 1000), publishEps };
  } finally {
    await consumer.close();
  }
}

class Bench {
  readonly id = randomBytes(3).toString('hex');
  readonly site = `bench-${this.id}`;
  readonly vhost = `bench-relay-${this.id}`;
  readonly centralUrl: string;
  readonly centralAdmin: BrokerAdmin;
  readonly siteAdmin: BrokerAdmin;

  constructor(readonly status: MeshStatus) {
    this.centralUrl = status.central.amqp.replace(/\/%2F$/, `/${this.vhost}`);
    this.centralAdmin = new BrokerAdmin({ url: status.central.management, user: status.central.user, password: status.central.password });
    const s = status.sites[0]!;
    this.siteAdmin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
  }

  private async management(base: string, user: string, password: string, method: string, path: string, payload?: unknown): Promise<void> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }

  central(method: string, path: string, payload?: unknown): Promise<void> {
    const c = this.status.central;
    return this.management(c.management, c.user, c.password, method, path, payload);
  }

  siteApi(method: string, path: string, payload?: unknown): Promise<void> {
    const s = this.status.sites[0]!;
    return this.management(s.management, s.user, s.password, method, path, payload);
  }

  /** The bench's central: not.central and a quorum queue taking everything, in a vhost of its own. */
  async setUp(): Promise<void> {
    await this.central('PUT', `/api/vhosts/${this.vhost}`, {});
    await this.central('PUT', `/api/permissions/${this.vhost}/${this.status.central.user}`, { configure: '.*', write: '.*', read: '.*' });
    const conn = await amqp.connect(this.centralUrl);
    const ch = await conn.createChannel();
    await ch.assertExchange('not.central', 'topic', { durable: true });
    await ch.assertQueue('bench.count', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue('bench.count', 'not.central', 'site.#');
    await conn.close();
  }

  reconciler(sources: unknown[], webhooks?: unknown): ReconcileService {
    const s = this.status.sites[0]!;
    const c = this.status.central;
    const config = validateConfig(
      {
        site: this.site,
        central: { urls: [this.centralUrl], management: { url: c.management, user: c.user, password: c.password } },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources,
        ...(webhooks ? { webhooks } : {}),
        http: { port: HTTP_PORT },
      },
      relayConfigSchema,
      'bench',
    );
    return new ReconcileService(new RelaySettings(config), new RelayMetrics(new Registry()));
  }

  /** Creates the link for one source and waits until it runs. */
  async link(
    source: string,
    mode: 'shovel' | 'federation',
    keepRoutingKey = false,
  ): Promise<{ exchange: string; reconciler: ReconcileService }> {
    const exchange = `bench.${this.id}.${source}`;
    const reconciler = this.reconciler([{ name: source, broker: 'main', format: 'eiffel', exchange, mode, keepRoutingKey }]);
    await reconciler.reconcile();
    const name = `not-relay-${this.site}-${source}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up =
        mode === 'shovel'
          ? (await this.siteAdmin.shovelStatus()).some((x) => x.name === name && x.state === 'running')
          : (await this.centralAdmin.federationLinks(this.vhost)).some((l) => l.upstream === name && l.status === 'running') &&
            (await this.centralAdmin.shovelStatus(this.vhost)).some((x) => x.name === name && x.state === 'running');
      if (up) break;
      if (Date.now() > deadline) throw new Error(`the ${mode} link ${name} did not start within 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { exchange, reconciler };
  }

  async tearDown(): Promise<void> {
    // A reconcile pass with no sources removes the site shovels and central federation objects.
    await this.reconciler([])
      .reconcile()
      .catch(() => undefined);
    for (const p of await this.siteAdmin.listShovelParameters())
      if (p.name.startsWith(`not-relay-${this.site}-`)) await this.siteAdmin.deleteShovel(p.name);
    for (const p of await this.siteAdmin.listPolicies())
      if (p.name.startsWith(`not-relay-${this.site}-`) || p.name.startsWith(`not-relay.${this.site}.`))
        await this.siteAdmin.deletePolicy(p.name);
    for (const q of await this.siteAdmin.listQueues()) {
      if (q.name.startsWith(`not-relay.${this.site}.`) || q.name.startsWith(`bench.${this.id}`))
        await this.siteApi('DELETE', `/api/queues/%2F/${encodeURIComponent(q.name)}`);
    }
    for (const x of ['shovel', 'keyed', 'federation', 'raw', 'webhooks'])
      await this.siteApi('DELETE', `/api/exchanges/%2F/${encodeURIComponent(`bench.${this.id}.${x}`)}`);
    await this.central('DELETE', `/api/vhosts/${this.vhost}`);
  }
}

/** Raw ceiling of one node: publish with confirms to an exchange, consume from a quorum queue bound to it. */
async function rawHop(url: string, name: string, n: number): Promise<number> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertExchange(name, 'topic', { durable: true });
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(name, name, '#');
  await conn.close();
  try {
    return (await endToEnd(url, name, () => 'raw', url, name, n)).eps;
  } finally {
    const c = await amqp.connect(url);
    const cc = await c.createChannel();
    await cc.deleteQueue(name);
    await cc.deleteExchange(name);
    await c.close();
  }
}

/** CONCURRENCY workers, each publishing one message and waiting for its confirm, on one channel (what the relay does per webhook). */
async function rawConfirmedSingles(url: string, exchange: string, n: number): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(exchange, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(exchange, exchange, '#');
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const i = next++;
          await new Promise<void>((resolve, reject) =>
            ch.publish(exchange, 'raw', body(i), { persistent: true }, (err) => (err ? reject(err) : resolve())),
          );
        }
      }),
    );
    const eps = n / ((performance.now() - t0) / 1000);
    await ch.deleteQueue(exchange);
    await ch.deleteExchange(exchange);
    return eps;
  } finally {
    await conn.close();
  }
}

/** The relay process with webhooks on; REQUESTS POSTs with CONCURRENCY in flight, each counted only on 202. */
async function webhooks(bench: Bench): Promise<{ rps: number; accepted: number; arrived: boolean; httpCeiling: number }> {
  const s = bench.status.sites[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(
    file,
    stringify({
      site: bench.site,
      central: { urls: [bench.centralUrl] },
      brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
      webhooks: { broker: 'main', exchange: `bench.${bench.id}.webhooks` },
      http: { port: HTTP_PORT },
      logLevel: 'warn',
    }),
  );
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'apps', 'relay', 'src', 'main.js'), '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`http://127.0.0.1:${HTTP_PORT}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null) throw new Error(`the relay exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the relay was not ready within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const url = `http://127.0.0.1:${HTTP_PORT}/webhooks/generic?format=eiffel`;
    const post = (i: number) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
      );
    for (let i = 0; i < 200; i++) await post(i); // warm-up
    // The relay's bare HTTP ceiling on this machine: the same load on an endpoint that does nothing.
    let probe = 0;
    const p0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (probe < REQUESTS) {
          probe++;
          await (await fetch(`http://127.0.0.1:${HTTP_PORT}/health/live`)).arrayBuffer();
        }
      }),
    );
    const httpCeiling = REQUESTS / ((performance.now() - p0) / 1000);
    const consumer = await consumeUntil(bench.centralUrl, 'bench.count', REQUESTS + 200, 300_000);
    let next = 0;
    let accepted = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          if ((await post(next++)) === 202) accepted++;
        }
      }),
    );
    const rps = accepted / ((performance.now() - t0) / 1000);
    const arrived = await consumer.done.then(
      () => true,
      () => false,
    );
    await consumer.close();
    return { rps, accepted, arrived, httpCeiling };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  // The reconciler's change log would interleave with the table.
  Logger.overrideLogger(['error']);
  const mesh = new Mesh(loadMesh(CONFIG), (m) => process.stderr.write(`• ${m}\n`));
  let status = await mesh.status();
  if (!status.central.up || !status.sites[0]?.up) status = await mesh.up();
  const bench = new Bench(status);
  await bench.setUp();
  const rows: Array<[string, string]> = [];
  try {
    log(`raw: ${EVENTS} messages of ${SIZE} bytes, publish (confirms) → consume, on the site node`);
    const rawSite = await rawHop(status.sites[0]!.amqp, `bench.${bench.id}.raw`, EVENTS);
    log(`raw: the same on the central node`);
    const rawCentral = await rawHop(bench.centralUrl, `bench.${bench.id}.raw`, EVENTS);

    log(`shovel: ${EVENTS} events published at the site, counted at central`);
    const shovel = await bench.link('shovel', 'shovel');
    const viaShovel = await endToEnd(status.sites[0]!.amqp, shovel.exchange, (i) => `ci.${i % 8}`, bench.centralUrl, 'bench.count', EVENTS);

    log(`shovel with keepRoutingKey: ${EVENTS} events published at the site, counted at central`);
    const keyed = await bench.link('keyed', 'shovel', true);
    const viaIntake = await endToEnd(status.sites[0]!.amqp, keyed.exchange, (i) => `ci.${i % 8}`, bench.centralUrl, 'bench.count', EVENTS);

    log(`federation: ${EVENTS} events published at the site, counted at central`);
    const fed = await bench.link('federation', 'federation');
    const viaFederation = await endToEnd(
      status.sites[0]!.amqp,
      fed.exchange,
      (i) => `ci.${i % 8}`,
      bench.centralUrl,
      'bench.count',
      EVENTS,
    );
    // The shovel's source is done; only the webhook link stays for the next part.
    await bench.reconciler([]).reconcile();

    log(`raw: ${REQUESTS} single confirmed publishes, ${CONCURRENCY} in flight, on the site node`);
    const rawSingles = await rawConfirmedSingles(status.sites[0]!.amqp, `bench.${bench.id}.raw`, REQUESTS);
    log(`webhooks: ${REQUESTS} POSTs, ${CONCURRENCY} in flight, 202 only after the site broker's confirm`);
    const wh = await webhooks(bench);

    const slowest = Math.min(rawSite, rawCentral);
    rows.push(
      [`raw RabbitMQ, site node: publish (confirms) → consume, quorum queue`, `${rawSite.toFixed(0)} msg/s`],
      [`raw RabbitMQ, central node: the same`, `${rawCentral.toFixed(0)} msg/s`],
      [
        `one shovel: site publish (confirms) → buffer → shovel → central consume`,
        `${viaShovel.eps.toFixed(0)} events/s (${((viaShovel.eps / slowest) * 100).toFixed(0)} % of the slower raw hop)`,
      ],
      [`  publish rate at the site meanwhile`, `${viaShovel.publishEps.toFixed(0)} events/s`],
      [
        `one shovel with keepRoutingKey: site publish → intake → dead-lettered to the buffer → shovel → central consume`,
        `${viaIntake.eps.toFixed(0)} events/s (${((viaIntake.eps / slowest) * 100).toFixed(0)} %; publish ${viaIntake.publishEps.toFixed(0)}/s)`,
      ],
      [
        `one federation link: site publish → buffer → federation → central queue → shovel → central consume`,
        `${viaFederation.eps.toFixed(0)} events/s (${((viaFederation.eps / slowest) * 100).toFixed(0)} %)`,
      ],
      [`raw RabbitMQ: single confirmed publishes, ${CONCURRENCY} in flight (site node)`, `${rawSingles.toFixed(0)} msg/s`],
      [
        `webhooks: POST → 202 after confirm, ${CONCURRENCY} in flight`,
        `${wh.rps.toFixed(0)} requests/s (${((wh.rps / rawSingles) * 100).toFixed(0)} % of raw)`,
      ],
      [`  accepted / sent; all accepted at central`, `${wh.accepted} / ${REQUESTS}; ${wh.arrived ? 'yes' : 'NO'}`],
      [
        `relay HTTP ceiling: GET /health/live, ${CONCURRENCY} in flight (no broker)`,
        `${wh.httpCeiling.toFixed(0)} requests/s (webhooks reach ${((wh.rps / wh.httpCeiling) * 100).toFixed(0)} % of it)`,
      ],
    );
  } finally {
    await bench.tearDown();
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\nrelay benchmark — ${EVENTS} events of ${SIZE} bytes, ${REQUESTS} webhooks at concurrency ${CONCURRENCY}\n`);
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (shared: other work may run)\n\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  process.stdout.write(
    `\nreproduce: npm run bench:relay -- --config=${CONFIG} --events=${EVENTS} --size=${SIZE} --requests=${REQUESTS} --concurrency=${CONCURRENCY}\n`,
  );
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`bench:relay: ${err.message}\n`);
  process.exit(1);
});
