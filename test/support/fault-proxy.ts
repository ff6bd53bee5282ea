import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on the loopback interface that misbehaves like a wide-area link, for tests only.
 * Put it between a site and central (the relay's central URL points at it) and switch its mode:
 *   - `blackhole()`: connections stay open but nothing passes either way, and new ones are accepted
 *     and then hang (a half-open link: no RST, no FIN, just silence);
 *   - `degrade({ latencyMs, jitterMs, bytesPerSecond })`: every chunk is delayed (order kept) and
 *     the throughput capped in each direction;
 *   - `flap(upMs, downMs)`: alternates between passing and black-holed, cutting the connections at
 *     each recovery (as a route change or a NAT timeout does);
 *   - `heal()`: passes everything again.
 */
export class FaultProxy {
  private server?: Server;
  private readonly pairs = new Set<Pair>();
  private holed = false;
  private shape: { latencyMs: number; jitterMs: number; bytesPerSecond: number } = { latencyMs: 0, jitterMs: 0, bytesPerSecond: 0 };
  private flapTimer?: NodeJS.Timeout;
  /** Bytes forwarded towards the target and back (what a test checks to know traffic passed). */
  readonly forwarded = { up: 0, down: 0 };

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  /** Listens on a loopback port (an ephemeral one unless given); resolves with it. */
  async listen(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('the fault proxy has no port');
    return addr.port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  blackhole(): void {
    this.stopFlapping();
    this.holed = true;
    for (const p of this.pairs) p.hold();
  }

  degrade(shape: { latencyMs?: number; jitterMs?: number; bytesPerSecond?: number }): void {
    this.shape = { latencyMs: shape.latencyMs ?? 0, jitterMs: shape.jitterMs ?? 0, bytesPerSecond: shape.bytesPerSecond ?? 0 };
  }

  flap(upMs: number, downMs: number): void {
    this.stopFlapping();
    const down = (): void => {
      this.holed = true;
      for (const p of this.pairs) p.hold();
      this.flapTimer = setTimeout(up, downMs);
    };
    const up = (): void => {
      // After an outage the old connections are gone on the far side: cut them, new ones pass.
      for (const p of [...this.pairs]) p.cut();
      this.holed = false;
      this.flapTimer = setTimeout(down, upMs);
    };
    this.flapTimer = setTimeout(down, upMs);
  }

  heal(): void {
    this.stopFlapping();
    this.shape = { latencyMs: 0, jitterMs: 0, bytesPerSecond: 0 };
    this.holed = false;
    for (const p of this.pairs) p.release();
  }

  async close(): Promise<void> {
    this.stopFlapping();
    for (const p of [...this.pairs]) p.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private stopFlapping(): void {
    clearTimeout(this.flapTimer);
    this.flapTimer = undefined;
  }

  private accept(client: Socket): void {
    const pair = new Pair(client, () => createConnection({ host: this.targetHost, port: this.targetPort }), {
      shape: () => this.shape,
      count: (dir, n) => (this.forwarded[dir] += n),
      gone: () => this.pairs.delete(pair),
    });
    this.pairs.add(pair);
    if (this.holed) pair.hold();
    pair.open();
  }
}

type Direction = 'up' | 'down';

/** One client connection and its connection to the target, with a delayed, rate-capped pipe each way. */
class Pair {
  private target?: Socket;
  private held = false;
  private closed = false;
  private readonly queues: Record<Direction, Array<Buffer>> = { up: [], down: [] };
  /** Chunks whose delay ran out while the link was held: they go first when it is released. */
  private readonly parked: Record<Direction, Array<Buffer>> = { up: [], down: [] };
  private readonly nextFree: Record<Direction, number> = { up: 0, down: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly client: Socket,
    private readonly connect: () => Socket,
    private readonly env: {
      shape: () => { latencyMs: number; jitterMs: number; bytesPerSecond: number };
      count: (dir: Direction, n: number) => void;
      gone: () => void;
    },
  ) {
    client.on('error', () => this.cut());
    client.on('close', () => this.cut());
  }

  /** Connects to the target unless held (a black-holed link accepts, then hangs). */
  open(): void {
    if (this.held) {
      this.client.pause();
      return;
    }
    if (this.target) return;
    const target = this.connect();
    this.target = target;
    target.on('error', () => this.cut());
    target.on('close', () => this.cut());
    this.client.on('data', (d: Buffer) => this.carry('up', d));
    target.on('data', (d: Buffer) => this.carry('down', d));
  }

  hold(): void {
    this.held = true;
    this.client.pause();
    this.target?.pause();
  }

  release(): void {
    if (this.closed) return;
    this.held = false;
    if (!this.target) this.open();
    this.client.resume();
    this.target?.resume();
    for (const dir of ['up', 'down'] as const) {
      this.queues[dir].unshift(...this.parked[dir]);
      this.parked[dir] = [];
      this.nextFree[dir] = 0;
    }
    this.flush('up');
    this.flush('down');
  }

  cut(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.client.destroy();
    this.target?.destroy();
    this.env.gone();
  }

  private carry(dir: Direction, chunk: Buffer): void {
    this.queues[dir].push(chunk);
    if (!this.held) this.flush(dir);
  }

  private flush(dir: Direction): void {
    const { latencyMs, jitterMs, bytesPerSecond } = this.env.shape();
    while (this.queues[dir].length > 0) {
      const chunk = this.queues[dir].shift()!;
      const now = Date.now();
      const delay = latencyMs + (jitterMs ? (Math.random() * 2 - 1) * jitterMs : 0);
      // Order is kept: a chunk never leaves before the one ahead of it; the rate cap spaces them out.
      const at = Math.max(now + Math.max(0, delay), this.nextFree[dir]);
      this.nextFree[dir] = at + (bytesPerSecond > 0 ? (chunk.length / bytesPerSecond) * 1000 : 0);
      if (at <= now) this.deliver(dir, chunk);
      else {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.deliver(dir, chunk);
        }, at - now);
        this.timers.add(t);
      }
    }
  }

  private deliver(dir: Direction, chunk: Buffer): void {
    if (this.closed) return;
    if (this.held) {
      this.parked[dir].push(chunk);
      return;
    }
    const to = dir === 'up' ? this.target : this.client;
    if (!to) return;
    this.env.count(dir, chunk.length);
    to.write(chunk);
  }
}
