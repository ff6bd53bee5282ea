import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerAdmin } from '@not/messaging';
import { parse, stringify } from 'yaml';
import { createHash } from 'node:crypto';
import { centralNodeName, centralNodePorts, type LoadedMesh, type MeshSite } from './mesh.config.js';
import { Neo4jServer } from './neo4j-server.js';
import { ensurePrerequisites, PROMETHEUS_BIN, type Progress } from './prerequisites.js';
import { httpOk, isAlive, portOpen, startDetached, stopProcess, waitFor } from './process.js';
import { RabbitNode } from './rabbit-node.js';
import { explorerToken, loadOrCreateState, readState, writeState, type MeshState } from './state.js';

interface Endpoint {
  readonly up: boolean;
}

export interface MeshStatus {
  readonly stateDir: string;
  readonly central: Endpoint & {
    amqp: string;
    management: string;
    prometheus: string;
    user: string;
    password: string;
    exchange: string;
    /** Every node of central (one unless `central.nodes` says more); the fields above are the first node's. */
    nodes: Array<Endpoint & { name: string; nodeName: string; amqp: string; management: string; prometheus: string }>;
  };
  readonly sites: Array<
    Endpoint & {
      id: string;
      amqp: string;
      management: string;
      prometheus: string;
      user: string;
      password: string;
      relay: { url: string; up: boolean; webhooks: string; webhookSecret: string };
      /** The site's own user on the central broker: may publish only `site.<id>.#` to not.central. */
      centralUser: string;
      centralPassword: string;
      sources: Array<{ name: string; format: string; exchange: string; keepRoutingKey?: boolean }>;
    }
  >;
  readonly neo4j: Endpoint & { bolt: string; user: string; password: string };
  readonly prometheus: Endpoint & { url: string };
  readonly correlator: Endpoint & { url: string };
  /** `token`: the bearer token the explorer accepts (generated at the first `up`, or the one given to `up`). */
  readonly explorer: Endpoint & { url: string; token: string };
}

export interface MeshUpOptions {
  /** Start the apps too (default); false starts only the brokers, Neo4j and Prometheus. */
  readonly apps?: boolean;
  /**
   * A bearer token for the explorer in place of the generated one (the CLI passes `EXPLORER_TOKEN`).
   * Remembered until an `up` without one; at least 12 characters.
   */
  readonly explorerToken?: string;
}

/** Starts, inspects and stops the local mesh described by one mesh config. */
export class Mesh {
  constructor(
    private readonly mesh: LoadedMesh,
    private readonly progress: Progress = () => undefined,
  ) {}

  private get cfg() {
    return this.mesh.config;
  }

  private nodes(state: MeshState): { central: RabbitNode; centrals: RabbitNode[]; sites: Map<string, RabbitNode> } {
    const pw = state.secrets.rabbitAdminPassword;
    // A cluster's nodes share one Erlang cookie, derived from the mesh's generated admin password.
    const cookie =
      this.cfg.central.nodes > 1 ? createHash('sha256').update(`erlang-cookie:${pw}`).digest('hex').slice(0, 32).toUpperCase() : undefined;
    const centrals = centralNodePorts(this.cfg).map(
      (ports, k) => new RabbitNode(centralNodeName(k), ports, this.mesh.stateDir, pw, [], cookie),
    );
    return {
      central: centrals[0]!,
      centrals,
      sites: new Map(this.cfg.sites.map((s) => [s.id, new RabbitNode(s.id, s.rabbitmq, this.mesh.stateDir, pw)])),
    };
  }

  private neo4j(state: MeshState): Neo4jServer {
    const n = this.cfg.neo4j;
    return new Neo4jServer(this.mesh.root, this.mesh.stateDir, n.boltPort, state.secrets.neo4jPassword, n);
  }

  /** Idempotent: starts whatever is not running yet. */
  async up(options: MeshUpOptions = {}): Promise<MeshStatus> {
    if (options.explorerToken !== undefined && options.explorerToken.length < 12) {
      throw new Error(
        'the explorer token given to "mesh up" (EXPLORER_TOKEN) has fewer than 12 characters; give a longer one, or unset it to use the generated token',
      );
    }
    ensurePrerequisites(this.mesh.root, this.progress);
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    if (options.explorerToken !== undefined) state.explorerTokenOverride = options.explorerToken;
    else delete state.explorerTokenOverride;
    writeState(this.mesh.stateDir, state);
    if (options.apps !== false && isAlive(state.pids.explorer) && !this.explorerConfigHasToken(explorerToken(state))) {
      // A running explorer read its tokens at start (or was started by a version that wrote none): restart it below.
      this.progress('explorer: its token changed, restarting it');
      await stopProcess(state.pids.explorer);
      delete state.pids.explorer;
      writeState(this.mesh.stateDir, state);
    }
    const { central, centrals, sites } = this.nodes(state);

    // Central's nodes are launched together (a clustered node waits at boot for the peers it last saw), then joined.
    for (const node of centrals) {
      this.progress(`RabbitMQ ${node.nodeName}: ${node.running() ? 'already running' : 'starting'} (AMQP ${node.ports.amqpPort})`);
      await node.launch();
    }
    for (const node of centrals) await node.waitReady();
    for (const node of centrals.slice(1)) {
      if (!(await node.clusterNodes()).includes(central.nodeName)) {
        this.progress(`RabbitMQ ${node.nodeName}: joining the cluster of ${central.nodeName}`);
        await node.joinCluster(central);
      }
    }
    for (const node of sites.values()) {
      this.progress(`RabbitMQ ${node.nodeName}: ${node.running() ? 'already running' : 'starting'} (AMQP ${node.ports.amqpPort})`);
      await node.start();
    }
    await this.provisionCentralUsers(central, state);

    this.progress(`Neo4j: ${isAlive(state.pids.neo4j) ? 'already running' : 'starting'} (Bolt ${this.cfg.neo4j.boltPort})`);
    state.pids.neo4j = await this.neo4j(state).start(state.pids.neo4j);
    writeState(this.mesh.stateDir, state);

    this.writeAppConfigs(state);
    if (options.apps !== false) {
      await this.startApp(state, 'correlator', this.cfg.correlator.port);
      await this.startApp(state, 'explorer', this.cfg.explorer.port);
      for (const site of this.cfg.sites) await this.startApp(state, `relay-${site.id}`, site.relayPort);
    }
    await this.startPrometheus(state);
    return this.status();
  }

  /** Stops exactly what `up` started, by recorded process ids; keeps data unless purge. */
  async down(options: { purge?: boolean } = {}): Promise<void> {
    const state = readState(this.mesh.stateDir);
    if (state) {
      const apps = Object.keys(state.pids).filter((k) => k !== 'neo4j');
      for (const name of apps) {
        this.progress(`stopping ${name}`);
        await stopProcess(state.pids[name]);
        delete state.pids[name];
      }
      if (state.pids.neo4j) {
        this.progress('stopping Neo4j');
        await stopProcess(state.pids.neo4j, 60_000);
        delete state.pids.neo4j;
      }
      const { centrals, sites } = this.nodes(state);
      // The first central node stops last, so it is the one that may boot first next time.
      for (const node of [...sites.values(), ...[...centrals].reverse()]) {
        if (node.running()) {
          this.progress(`stopping RabbitMQ ${node.nodeName}`);
          await node.stop();
        }
      }
      writeState(this.mesh.stateDir, state);
    }
    if (options.purge && existsSync(this.mesh.stateDir)) {
      this.progress(`removing ${this.mesh.stateDir}`);
      rmSync(this.mesh.stateDir, { recursive: true, force: true });
    }
  }

  async status(): Promise<MeshStatus> {
    const state =
      readState(this.mesh.stateDir) ??
      loadOrCreateState(
        this.mesh.stateDir,
        this.cfg.sites.map((s) => s.id),
      );
    const { central, centrals, sites } = this.nodes(state);
    const rabbitUp = async (n: RabbitNode): Promise<boolean> => n.running() && (await portOpen(n.ports.amqpPort));
    const appUrl = (port: number): string => `http://127.0.0.1:${port}`;
    const appUp = async (name: string, port: number): Promise<boolean> =>
      isAlive(state.pids[name]) && (await httpOk(`${appUrl(port)}/health/live`));
    const admin = state.secrets.rabbitAdminPassword;
    return {
      stateDir: this.mesh.stateDir,
      central: {
        amqp: central.amqpUrl(),
        management: central.managementUrl(),
        prometheus: `http://127.0.0.1:${central.ports.prometheusPort}/metrics`,
        user: 'admin',
        password: admin,
        exchange: 'not.central',
        up: await rabbitUp(central),
        nodes: await Promise.all(
          centrals.map(async (n) => ({
            name: n.name,
            nodeName: n.nodeName,
            amqp: n.amqpUrl(),
            management: n.managementUrl(),
            prometheus: `http://127.0.0.1:${n.ports.prometheusPort}/metrics`,
            up: await rabbitUp(n),
          })),
        ),
      },
      sites: await Promise.all(
        this.cfg.sites.map(async (s) => {
          const node = sites.get(s.id)!;
          return {
            id: s.id,
            amqp: node.amqpUrl(),
            management: node.managementUrl(),
            prometheus: `http://127.0.0.1:${node.ports.prometheusPort}/metrics`,
            user: 'admin',
            password: admin,
            up: await rabbitUp(node),
            relay: {
              url: appUrl(s.relayPort),
              up: await appUp(`relay-${s.id}`, s.relayPort),
              webhooks: `${appUrl(s.relayPort)}/webhooks`,
              webhookSecret: state.secrets.webhookSecret ?? '',
            },
            sources: s.sources.map((src) => ({ ...src })),
            centralUser: `site-${s.id}`,
            centralPassword: state.secrets.sitePasswords[s.id] ?? '',
          };
        }),
      ),
      neo4j: {
        bolt: `bolt://127.0.0.1:${this.cfg.neo4j.boltPort}`,
        user: 'neo4j',
        password: state.secrets.neo4jPassword,
        up: isAlive(state.pids.neo4j) && (await portOpen(this.cfg.neo4j.boltPort)),
      },
      prometheus: {
        url: appUrl(this.cfg.prometheus.port),
        up: isAlive(state.pids.prometheus) && (await httpOk(`${appUrl(this.cfg.prometheus.port)}/-/ready`)),
      },
      correlator: { url: appUrl(this.cfg.correlator.port), up: await appUp('correlator', this.cfg.correlator.port) },
      explorer: { url: appUrl(this.cfg.explorer.port), token: explorerToken(state), up: await appUp('explorer', this.cfg.explorer.port) },
    };
  }

  /** The explorer's address (nothing probed). */
  explorerUrl(): string {
    return `http://127.0.0.1:${this.cfg.explorer.port}`;
  }

  /** The explorer's bearer token without probing anything; undefined when this mesh was never started. */
  explorerToken(): string | undefined {
    const state = readState(this.mesh.stateDir);
    return state ? explorerToken(state) || undefined : undefined;
  }

  /** Stops the mesh's Neo4j (for fault tests and maintenance); `startNeo4j` brings it back on the same data. */
  async stopNeo4j(): Promise<void> {
    const state = readState(this.mesh.stateDir);
    if (!state?.pids.neo4j) return;
    await stopProcess(state.pids.neo4j, 60_000);
    delete state.pids.neo4j;
    writeState(this.mesh.stateDir, state);
  }

  async startNeo4j(): Promise<void> {
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    state.pids.neo4j = await this.neo4j(state).start(state.pids.neo4j);
    writeState(this.mesh.stateDir, state);
  }

  /** Stops one RabbitMQ node of the mesh (`central`, `central-2`… or a site id), for fault tests. */
  async stopNode(name: string): Promise<void> {
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    await this.node(state, name).stop();
  }

  async startNode(name: string): Promise<void> {
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    await this.node(state, name).start();
  }

  /** Kills one RabbitMQ node's processes with SIGKILL (a crash, for fault tests); `startNode` brings it back. */
  async killNode(name: string): Promise<void> {
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    const node = this.node(state, name);
    const pid = node.pid();
    node.kill('SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
  }

  private node(state: MeshState, name: string): RabbitNode {
    const { centrals, sites } = this.nodes(state);
    const node = centrals.find((n) => n.name === name) ?? sites.get(name);
    if (!node) throw new Error(`no RabbitMQ node "${name}" in this mesh`);
    return node;
  }

  /** Stops and starts one app process (used by tests and by `traces mesh restart <app>`). */
  async stopApp(name: string): Promise<void> {
    const state = readState(this.mesh.stateDir);
    if (!state) return;
    await stopProcess(state.pids[name]);
    delete state.pids[name];
    writeState(this.mesh.stateDir, state);
  }

  /** Kills one app process with SIGKILL (a crash, for fault tests and the soak); `startAppByName` brings it back. */
  async killApp(name: string): Promise<void> {
    const state = readState(this.mesh.stateDir);
    const pid = state?.pids[name];
    if (!state || !isAlive(pid)) return;
    try {
      process.kill(-pid!, 'SIGKILL');
    } catch {
      process.kill(pid!, 'SIGKILL');
    }
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
    delete state.pids[name];
    writeState(this.mesh.stateDir, state);
  }

  /** The process ids of the mesh's processes by name (apps, Neo4j, Prometheus, every RabbitMQ node), for memory figures. */
  processIds(): Record<string, number> {
    const state = readState(this.mesh.stateDir);
    if (!state) return {};
    const { centrals, sites } = this.nodes(state);
    const out: Record<string, number> = { ...state.pids };
    for (const n of [...centrals, ...sites.values()]) {
      const pid = n.pid();
      if (pid !== undefined) out[`rabbitmq-${n.name}`] = pid;
    }
    return out;
  }

  /** The names of central's RabbitMQ nodes (`central`, `central-2`…). */
  centralNodeNames(): string[] {
    return centralNodePorts(this.cfg).map((_, k) => centralNodeName(k));
  }

  async startAppByName(name: string): Promise<void> {
    const state = loadOrCreateState(
      this.mesh.stateDir,
      this.cfg.sites.map((s) => s.id),
    );
    await this.startApp(state, name, this.portOf(name));
  }

  configFile(app: string): string {
    return join(this.mesh.stateDir, 'config', `${app}.yaml`);
  }

  private portOf(name: string): number {
    if (name === 'correlator') return this.cfg.correlator.port;
    if (name === 'explorer') return this.cfg.explorer.port;
    const site = this.cfg.sites.find((s) => `relay-${s.id}` === name);
    if (!site) throw new Error(`no app named "${name}" in this mesh`);
    return site.relayPort;
  }

  /** Whether the explorer's file, as last written, accepts exactly this token. */
  private explorerConfigHasToken(token: string): boolean {
    const file = this.configFile('explorer');
    if (!existsSync(file)) return false;
    const tokens = (parse(readFileSync(file, 'utf8')) as { auth?: { tokens?: unknown } } | null)?.auth?.tokens;
    return Array.isArray(tokens) && tokens.length === 1 && tokens[0] === token;
  }

  private async provisionCentralUsers(central: RabbitNode, state: MeshState): Promise<void> {
    // Each site's shovel publishes as its own user, allowed to write only `site.<its id>.#`.
    const admin = new BrokerAdmin({ url: central.managementUrl(), user: 'admin', password: state.secrets.rabbitAdminPassword });
    for (const site of this.cfg.sites) {
      const user = `site-${site.id}`;
      await admin.putUser(user, state.secrets.sitePasswords[site.id]!);
      await admin.putPermissions(user, { configure: '^$', write: '^not\\.central$', read: '^$' });
      await admin.putTopicPermissions(user, { exchange: 'not.central', write: `^site\\.${escapeRe(site.id)}\\.`, read: '^$' });
    }
  }

  private writeAppConfigs(state: MeshState): void {
    const dir = join(this.mesh.stateDir, 'config');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { centrals, sites } = this.nodes(state);
    // neo4j:// (routing): what a cluster or Aura needs; the single local server answers it with itself in every role.
    const neo4j = { url: `neo4j://127.0.0.1:${this.cfg.neo4j.boltPort}`, user: 'neo4j', password: state.secrets.neo4jPassword };
    const write = (name: string, value: unknown): void => writeFileSync(join(dir, `${name}.yaml`), stringify(value), { mode: 0o600 });
    const { artifactBuilds, buildInfoBuilds } = this.cfg.correlator;
    write('correlator', {
      // One URL per central node: the correlator connects to one and moves to another when it goes.
      amqp: {
        url: centrals.length === 1 ? centrals[0]!.amqpUrl() : centrals.map((n) => n.amqpUrl()),
        // The ingest queue's settings as a policy (set by the correlator through the first node's API).
        management: { url: centrals[0]!.managementUrl(), user: 'admin', password: state.secrets.rabbitAdminPassword },
      },
      neo4j,
      ...(artifactBuilds || buildInfoBuilds
        ? { parse: { ...(artifactBuilds ? { artifactBuilds } : {}), ...(buildInfoBuilds ? { buildInfoBuilds } : {}) } }
        : {}),
      http: { port: this.cfg.correlator.port },
    });
    write('explorer', {
      neo4j,
      http: { port: this.cfg.explorer.port },
      auth: { tokens: [explorerToken(state)] },
      ...(this.cfg.explorer.trends ? { trends: this.cfg.explorer.trends } : {}),
      ...(this.cfg.explorer.deliveryMetrics ? { deliveryMetrics: this.cfg.explorer.deliveryMetrics } : {}),
    });
    for (const site of this.cfg.sites) write(`relay-${site.id}`, this.relayConfig(site, centrals, sites.get(site.id)!, state));
  }

  private relayConfig(site: MeshSite, centrals: readonly RabbitNode[], node: RabbitNode, state: MeshState): unknown {
    return {
      site: site.id,
      // Every central node: the shovels pick one of them and move to another when theirs goes.
      central: {
        urls: centrals.map((c) => c.amqpUrl(`site-${site.id}`, state.secrets.sitePasswords[site.id], site.centralAmqpPort)),
        exchange: 'not.central',
      },
      brokers: [
        {
          name: 'main',
          url: node.amqpUrl(),
          management: { url: node.managementUrl(), user: 'admin', password: state.secrets.rabbitAdminPassword },
        },
      ],
      sources: site.sources.map((s) => ({
        name: s.name,
        broker: 'main',
        format: s.format,
        exchange: s.exchange,
        ...(s.keepRoutingKey ? { keepRoutingKey: true } : {}),
      })),
      webhooks: {
        broker: 'main',
        secrets: Object.fromEntries(
          ['github', 'gitlab', 'gitea', 'nexus', 'artifactory', 'verdaccio', 'jenkins', 'git-hook', 'generic', 'cloudevents', 'jira'].map(
            (k) => [k, state.secrets.webhookSecret],
          ),
        ),
      },
      reconcileIntervalSeconds: 5,
      http: { port: site.relayPort },
    };
  }

  private async startApp(state: MeshState, name: string, port: number): Promise<void> {
    if (isAlive(state.pids[name]) && (await httpOk(`http://127.0.0.1:${port}/health/live`))) {
      this.progress(`${name}: already running (http://127.0.0.1:${port})`);
      return;
    }
    if (await portOpen(port)) throw new Error(`port ${port} for ${name} is already in use; change it in the mesh config`);
    const app = name.startsWith('relay-') ? 'relay' : name;
    const main = join(this.mesh.root, 'dist', 'apps', app, 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
    const logDir = join(this.mesh.stateDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const log = join(logDir, `${name}.log`);
    this.progress(`${name}: starting (http://127.0.0.1:${port}, log ${log})`);
    const pid = startDetached(process.execPath, ['--enable-source-maps', main, '--config', this.configFile(name)], {
      log,
      cwd: this.mesh.root,
    });
    state.pids[name] = pid;
    writeState(this.mesh.stateDir, state);
    await waitFor(
      name,
      async () => {
        if (!isAlive(pid)) throw new Error(`${name} exited during start-up; see ${log}`);
        return httpOk(`http://127.0.0.1:${port}/health/ready`);
      },
      90_000,
      () => `see ${log}`,
    );
  }

  private async startPrometheus(state: MeshState): Promise<void> {
    const port = this.cfg.prometheus.port;
    if (isAlive(state.pids.prometheus) && (await httpOk(`http://127.0.0.1:${port}/-/ready`))) {
      this.progress('Prometheus: already running');
      return;
    }
    const dir = join(this.mesh.stateDir, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const configFile = join(dir, 'prometheus.yml');
    // The alert rules are the ones deployments use (deploy/prometheus/rules), copied so that a
    // test may swap in a rendering with shorter `for:` durations and reload.
    const rulesDir = join(dir, 'rules');
    rmSync(rulesDir, { recursive: true, force: true });
    mkdirSync(rulesDir, { recursive: true });
    const source = join(this.mesh.root, 'deploy', 'prometheus', 'rules');
    if (existsSync(source)) {
      for (const f of readdirSync(source).filter((n) => n.endsWith('.rules.yml'))) copyFileSync(join(source, f), join(rulesDir, f));
    }
    writeFileSync(configFile, stringify(this.prometheusConfig()));
    this.progress(`Prometheus: starting (http://127.0.0.1:${port})`);
    const pid = startDetached(
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--storage.tsdb.retention.time=2d',
      ],
      { log: join(dir, 'prometheus.log') },
    );
    state.pids.prometheus = pid;
    writeState(this.mesh.stateDir, state);
    await waitFor(
      'Prometheus',
      async () => httpOk(`http://127.0.0.1:${port}/-/ready`),
      60_000,
      () => `see ${join(dir, 'prometheus.log')}`,
    );
  }

  /** Scrape config for the mesh: the apps and every RabbitMQ node's prometheus plugin. */
  prometheusConfig(): unknown {
    const c = this.cfg;
    const target = (p: number): string => `127.0.0.1:${p}`;
    return {
      global: { scrape_interval: `${c.prometheus.scrapeIntervalSeconds}s`, evaluation_interval: `${c.prometheus.scrapeIntervalSeconds}s` },
      rule_files: [join(this.mesh.stateDir, 'prometheus', 'rules', '*.rules.yml')],
      scrape_configs: [
        {
          job_name: 'relay',
          // The relay labels its own series with its site; keep that rather than an `exported_site` copy.
          honor_labels: true,
          static_configs: c.sites.map((s) => ({ targets: [target(s.relayPort)], labels: { site: s.id } })),
        },
        { job_name: 'correlator', static_configs: [{ targets: [target(c.correlator.port)] }] },
        { job_name: 'explorer', static_configs: [{ targets: [target(c.explorer.port)] }] },
        {
          job_name: 'rabbitmq',
          static_configs: [
            ...centralNodePorts(c).map((p, k) => ({ targets: [target(p.prometheusPort)], labels: { node: centralNodeName(k) } })),
            ...c.sites.map((s) => ({ targets: [target(s.rabbitmq.prometheusPort)], labels: { node: s.id } })),
          ],
        },
      ],
    };
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
