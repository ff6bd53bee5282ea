import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isAlive, portOpen, sleep, startDetached } from './process.js';

export const RABBIT_BIN = '/usr/lib/rabbitmq/bin';

export interface RabbitPorts {
  readonly amqpPort: number;
  readonly managementPort: number;
  readonly prometheusPort: number;
  readonly distPort: number;
}

const RABBIT_PLUGINS = [
  'rabbitmq_management',
  'rabbitmq_shovel',
  'rabbitmq_shovel_management',
  'rabbitmq_federation',
  'rabbitmq_federation_management',
  'rabbitmq_prometheus',
];

/** One RabbitMQ node of the local mesh: its own name, ports, data and log folders under the state folder. */
export class RabbitNode {
  readonly dir: string;
  readonly nodeName: string;

  constructor(
    readonly name: string,
    readonly ports: RabbitPorts,
    stateDir: string,
    private readonly adminPassword: string,
    /** More rabbitmq.conf lines (for instance a TLS listener). */
    private readonly extraConfig: readonly string[] = [],
    /** The Erlang cookie every node of one cluster shares; without it the node makes its own at first start. */
    private readonly erlangCookie?: string,
  ) {
    this.dir = join(stateDir, 'rabbitmq', name);
    // Node names are machine-wide (epmd): the state folder's name keeps two meshes apart.
    this.nodeName = `not-${basename(stateDir).replace(/[^A-Za-z0-9-]/g, '')}-${name}@localhost`;
  }

  get pidFile(): string {
    return join(this.dir, 'rabbit.pid');
  }

  get logFile(): string {
    return join(this.dir, 'log', 'console.log');
  }

  pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const n = Number(readFileSync(this.pidFile, 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : undefined;
  }

  running(): boolean {
    return isAlive(this.pid());
  }

  /** `port`: where a client reaches this node when something stands between (default: the node's own). */
  amqpUrl(user = 'admin', password = this.adminPassword, port = this.ports.amqpPort): string {
    return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/%2F`;
  }

  managementUrl(): string {
    return `http://127.0.0.1:${this.ports.managementPort}`;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.dir,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.ports.amqpPort),
      RABBITMQ_DIST_PORT: String(this.ports.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: this.pidFile,
      RABBITMQ_ALLOW_INPUT: '',
    };
  }

  private writeConfig(): void {
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    if (this.erlangCookie) {
      const cookie = join(this.dir, '.erlang.cookie');
      if (!existsSync(cookie) || readFileSync(cookie, 'utf8') !== this.erlangCookie) {
        rmSync(cookie, { force: true });
        writeFileSync(cookie, this.erlangCookie, { mode: 0o400 });
      }
    }
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    writeFileSync(
      join(this.dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${this.ports.amqpPort}`,
        `management.tcp.ip = 127.0.0.1`,
        `management.tcp.port = ${this.ports.managementPort}`,
        `prometheus.tcp.ip = 127.0.0.1`,
        `prometheus.tcp.port = ${this.ports.prometheusPort}`,
        // Per-object metrics (per queue) for the buffer-depth dashboards.
        `prometheus.return_per_object_metrics = true`,
        `loopback_users = none`,
        `default_user = admin`,
        `default_pass = ${this.adminPassword}`,
        `default_user_tags.administrator = true`,
        `default_permissions.configure = .*`,
        `default_permissions.read = .*`,
        `default_permissions.write = .*`,
        `log.console = false`,
        `log.file.level = info`,
        ...this.extraConfig,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    writeFileSync(join(this.dir, 'enabled_plugins'), `[${RABBIT_PLUGINS.join(',')}].\n`);
  }

  /** Starts the node if it is not running and waits until RabbitMQ and its plugins are up. */
  async start(): Promise<number> {
    await this.launch();
    return this.waitReady();
  }

  /**
   * Starts the node's process without waiting for it. The nodes of one cluster are launched together
   * before waiting: a clustered node that was not the last to stop waits at boot for its peers.
   */
  async launch(): Promise<void> {
    if (this.running()) return;
    for (const p of [this.ports.amqpPort, this.ports.managementPort, this.ports.distPort]) {
      if (await portOpen(p)) throw new Error(`port ${p} is already in use by another program; change it in the mesh config`);
    }
    this.writeConfig();
    startDetached(join(RABBIT_BIN, 'rabbitmq-server'), [], { env: this.env(), log: join(this.dir, 'server.out'), cwd: this.dir });
    // The pid file appears once the node runs; until then `running()` answers false.
    const deadline = Date.now() + 30_000;
    while (!existsSync(this.pidFile) && Date.now() < deadline) await sleep(200);
  }

  /** Waits until RabbitMQ and its plugins are up (`rabbitmqctl wait`, which does not block the event loop). */
  async waitReady(timeoutMs = 300_000): Promise<number> {
    // `wait` may fail while the node registers with epmd: retry until the deadline.
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const r = await this.ctlAsync(['wait', this.pidFile, '--timeout', '60']);
      if (r.status === 0 && this.running()) return this.pid()!;
      last = r.output.trim().split('\n').slice(-2).join(' ');
      await sleep(1000);
    }
    throw new Error(`RabbitMQ node ${this.nodeName} did not start: ${last} (log: ${join(this.dir, 'server.out')})`);
  }

  /** The names of the nodes in this node's cluster (itself included), from `rabbitmqctl cluster_status`. */
  async clusterNodes(): Promise<string[]> {
    const r = await this.ctlAsync(['cluster_status', '--formatter', 'json']);
    if (r.status !== 0) throw new Error(`rabbitmqctl cluster_status on ${this.nodeName} failed: ${r.output.trim()}`);
    const j = JSON.parse(r.output) as { disk_nodes?: string[]; ram_nodes?: string[] };
    return [...(j.disk_nodes ?? []), ...(j.ram_nodes ?? [])];
  }

  /** Makes this (fresh, running) node a member of `seed`'s cluster: stop_app, join_cluster, start_app. */
  async joinCluster(seed: RabbitNode): Promise<void> {
    if ((await this.clusterNodes()).includes(seed.nodeName)) return;
    for (const args of [['stop_app'], ['join_cluster', seed.nodeName], ['start_app']]) {
      const r = await this.ctlAsync(args);
      if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} on ${this.nodeName} failed: ${r.output.trim()}`);
    }
    await this.waitReady();
  }

  /** Kills the node's process group with a signal (SIGKILL for a crash test); the pid file stays. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.pid();
    if (!isAlive(pid)) return;
    try {
      process.kill(-pid!, signal);
    } catch {
      process.kill(pid!, signal);
    }
  }

  private ctlAsync(args: readonly string[], timeoutMs = 120_000): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(join(RABBIT_BIN, 'rabbitmqctl'), ['-n', this.nodeName, ...args], {
        env: this.env(),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (e) => resolve({ status: null, output: e.message }));
      child.on('close', (status) => resolve({ status, output: status === 0 ? out : err || out }));
    });
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (!isAlive(pid)) return;
    // Asynchronously: a clustered node can take many seconds to stop, and whoever stops it (a fault test, the soak)
    // keeps talking to the other brokers meanwhile; a blocked event loop would let their AMQP handshakes time out.
    await this.ctlAsync(['stop', this.pidFile], 60_000);
    const deadline = Date.now() + 20_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(200);
    if (isAlive(pid)) process.kill(pid!, 'SIGKILL');
  }
}
