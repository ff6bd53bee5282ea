import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { MeshStatus } from '@not/mesh';
import { publishConfirmed } from '@not/messaging';
import { waitUntil } from './mesh.js';
import { startApp, stopChild, writeTempConfig } from './processes.js';

type Correlator = ReturnType<typeof startApp>;

/**
 * A vhost of its own on the test mesh's central node: its own not.central,
 * not.ingest, not.archive and not.dead, so a test's correlators share no queue
 * with the mesh's (the graph is shared; tests use fresh event ids).
 */
export class IsolatedCentral {
  readonly vhost = `t-${randomBytes(4).toString('hex')}`;
  readonly url: string;
  private readonly correlators: Correlator[] = [];

  constructor(private readonly status: MeshStatus) {
    this.url = status.central.amqp.replace(/\/%2F$/, `/${this.vhost}`);
  }

  private get auth(): string {
    return `Basic ${Buffer.from(`${this.status.central.user}:${this.status.central.password}`).toString('base64')}`;
  }

  async create(): Promise<this> {
    const headers = { authorization: this.auth, 'content-type': 'application/json' };
    for (const [path, body] of [
      [`/api/vhosts/${this.vhost}`, {}],
      [`/api/permissions/${this.vhost}/${this.status.central.user}`, { configure: '.*', write: '.*', read: '.*' }],
    ] as const) {
      const res = await fetch(`${this.status.central.management}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
      assert.ok(res.ok, `PUT ${path}: ${res.status}`);
    }
    return this;
  }

  /** Starts a correlator on this vhost and waits until it is ready. */
  async startCorrelator(port: number, batch = { size: 50, maxWaitMs: 20 }, extra: Record<string, unknown> = {}): Promise<Correlator> {
    const s = this.status;
    const child = startApp(
      'correlator',
      writeTempConfig('correlator', {
        amqp: { url: this.url, prefetch: 100 },
        neo4j: { url: s.neo4j.bolt, user: s.neo4j.user, password: s.neo4j.password },
        batch,
        http: { port },
        ...extra,
      }),
    );
    this.correlators.push(child);
    await waitUntil(
      `the correlator on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`correlator exited: ${child.output()}`);
        return fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
    );
    return child;
  }

  publish(bodies: readonly (string | Buffer | object)[], routingKey = 'site.site-x.ci.eiffel'): Promise<void> {
    return publishConfirmed(
      this.url,
      'not.central',
      bodies.map((b) => ({ body: Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'string' ? b : JSON.stringify(b)), routingKey })),
    );
  }

  async queue(name: string): Promise<{ ready: number; unacked: number }> {
    const res = await fetch(`${this.status.central.management}/api/queues/${this.vhost}/${name}`, {
      headers: { authorization: this.auth },
    });
    const q = (await res.json()) as { messages_ready?: number; messages_unacknowledged?: number };
    return { ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0 };
  }

  /** Takes up to `count` messages off a queue (acked), for inspection. */
  async drain(name: string, count: number): Promise<Array<{ body: string; headers: Record<string, unknown> }>> {
    const { default: amqp } = await import('amqplib');
    const conn = await amqp.connect(this.url);
    try {
      const ch = await conn.createChannel();
      const out: Array<{ body: string; headers: Record<string, unknown> }> = [];
      while (out.length < count) {
        const m = await ch.get(name, { noAck: true });
        if (!m) break;
        out.push({ body: m.content.toString('utf8'), headers: m.properties.headers ?? {} });
      }
      return out;
    } finally {
      await conn.close();
    }
  }

  async stop(): Promise<void> {
    for (const c of this.correlators) await stopChild(c);
    await fetch(`${this.status.central.management}/api/vhosts/${this.vhost}`, {
      method: 'DELETE',
      headers: { authorization: this.auth },
    }).catch(() => undefined);
  }
}
