import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BrokerAdmin, type ShovelDefinition } from '@not/messaging';
import { RelaySettings, WEBHOOK_SOURCE, type RelayConfig } from './relay.config.js';
import { RelayMetrics } from './relay.metrics.js';
import { RELAY_PREFIX, shovelName, SiteBroker, type BufferedLink } from './site-broker.js';

/**
 * Keeps each site broker in the state the config describes: a durable buffer
 * queue per source and a shovel from it to the central exchange. Run once at start by
 * the bootstrap, then every `reconcileIntervalSeconds`; logs each change once.
 */
@Injectable()
export class ReconcileService implements OnApplicationShutdown {
  private readonly log = new Logger(ReconcileService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastProblem = new Map<string, string>();
  private readonly stuck = new Map<string, { passes: number; attempts: number; wait: number }>();

  constructor(
    private readonly settings: RelaySettings,
    private readonly metrics: RelayMetrics,
  ) {}

  start(): void {
    const tick = (): void => {
      this.running = this.reconcile()
        .catch((err: Error) => this.log.error(`reconcile failed: ${err.message}`))
        .finally(() => {
          this.timer = setTimeout(tick, this.settings.config.reconcileIntervalSeconds * 1000);
        });
    };
    this.timer = setTimeout(tick, this.settings.config.reconcileIntervalSeconds * 1000);
  }

  /** One pass over every broker; resolves when done. */
  async reconcile(): Promise<void> {
    const { config } = this.settings;
    let ok = true;
    for (const broker of config.brokers) {
      const admin = new BrokerAdmin(broker.management);
      const site = new SiteBroker(broker);
      const sources = linksOf(config).filter((s) => s.broker === broker.name);
      try {
        await this.reconcileBroker(admin, site, sources);
        this.clearProblem(broker.name);
      } catch (err) {
        ok = false;
        this.metrics.reconcileErrors.inc({ site: config.site });
        this.reportProblem(broker.name, `broker "${broker.name}": ${(err as Error).message}`);
        for (const s of sources) this.setLink(s, 'unknown');
      }
    }
    if (ok) this.metrics.lastReconcile.set({ site: config.site }, Date.now() / 1000);
  }

  private setLink(source: BufferedLink, state: string): void {
    const labels = { site: this.settings.config.site, source: source.name, mode: source.mode };
    this.metrics.linkUp.set(labels, state === 'running' ? 1 : 0);
    for (const s of LINK_STATES) this.metrics.linkState.set({ ...labels, state: s }, s === state ? 1 : 0);
  }

  private async reconcileBroker(admin: BrokerAdmin, site: SiteBroker, sources: BufferedLink[]): Promise<void> {
    const { config } = this.settings;
    const existing = new Map((await admin.listShovelParameters()).map((p) => [p.name, p.value]));
    const wanted = new Map<string, ShovelDefinition>();
    const changed = new Set<string>();
    for (const source of sources) {
      const queue = await site.declareBuffer(config.site, source);
      wanted.set(shovelName(config.site, source.name), {
        'src-protocol': 'amqp091',
        'src-uri': site.config.url,
        'src-queue': queue,
        'dest-protocol': 'amqp091',
        'dest-uri': centralUris(config),
        'dest-exchange': config.central.exchange,
        ...(source.centralKey ? { 'dest-exchange-key': source.centralKey } : {}),
        'ack-mode': 'on-confirm',
        'dest-add-forward-headers': true,
        'dest-add-timestamp-header': true,
        'reconnect-delay': 5,
      });
    }
    for (const [name, def] of wanted) {
      const current = existing.get(name);
      if (!current) {
        await admin.putShovel(name, def);
        changed.add(name);
        this.action('created', `created shovel ${name} → ${def['dest-exchange']} (${def['dest-exchange-key'] ?? 'routing key kept'})`);
      } else if (!sameDefinition(current, def)) {
        await admin.putShovel(name, def);
        changed.add(name);
        this.action('replaced', `replaced shovel ${name}: its definition differed from the config`);
      }
    }
    const ownPrefix = `${RELAY_PREFIX}-${config.site}-`;
    for (const name of existing.keys()) {
      if (name.startsWith(ownPrefix) && !wanted.has(name)) {
        await admin.deleteShovel(name);
        this.action('deleted', `deleted shovel ${name}: its source is no longer configured`);
      }
    }
    const states = new Map((await admin.shovelStatus()).map((s) => [s.name, s]));
    for (const source of sources) {
      const name = shovelName(config.site, source.name);
      const st = states.get(name);
      const up = st?.state === 'running';
      this.setLink(source, st ? (LINK_STATES.includes(st.state) ? st.state : 'other') : 'missing');
      // A shovel created or replaced in this pass is still starting: judge it on the next pass.
      if (!up && !changed.has(name)) {
        this.reportProblem(name, `shovel ${name} is ${st?.state ?? 'not reported'}${st?.reason ? `: ${st.reason}` : ''}`);
        if (st) await this.restartIfStuck(admin, name);
      } else if (up) {
        this.clearProblem(name);
        this.stuck.delete(name);
      }
      const q = await admin.queue(wantedQueue(wanted, name)).catch(() => undefined);
      if (q?.messages !== undefined) this.metrics.bufferMessages.set({ site: config.site, source: source.name }, q.messages);
    }
  }

  /**
   * A shovel not running on consecutive passes is restarted, with back-off
   * (1, 2, 4 … up to 32 passes between attempts) so a broken link is not hammered.
   */
  private async restartIfStuck(admin: BrokerAdmin, name: string): Promise<void> {
    const s = this.stuck.get(name) ?? { passes: 0, attempts: 0, wait: 1 };
    s.passes++;
    this.stuck.set(name, s);
    if (s.passes < s.wait) return;
    s.passes = 0;
    s.attempts++;
    s.wait = Math.min(32, s.wait * 2);
    try {
      await admin.restartShovel(name);
      this.action('restarted', `restarted shovel ${name} (attempt ${s.attempts})`);
    } catch (err) {
      this.reportProblem(`${name}:restart`, `could not restart shovel ${name}: ${(err as Error).message}`);
    }
  }

  private action(action: string, message: string): void {
    this.metrics.reconcileActions.inc({ site: this.settings.config.site, action });
    this.log.log(message);
  }

  /** Logs a problem once, not on every tick, until it clears. */
  private reportProblem(key: string, message: string): void {
    if (this.lastProblem.get(key) === message) return;
    this.lastProblem.set(key, message);
    this.log.warn(message);
  }

  private clearProblem(key: string): void {
    if (this.lastProblem.delete(key)) this.log.log(`${key}: recovered`);
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }
}

/** Central URIs as the shovel takes them: amqps ones carry the TLS options as query parameters. */
export function centralUris(config: RelayConfig): string | string[] {
  const tls = config.central.tls;
  const uris = config.central.urls.map((url) => {
    if (!url.startsWith('amqps://') || !tls) return url;
    const u = new URL(url);
    u.searchParams.set('cacertfile', tls.caFile);
    u.searchParams.set('verify', 'verify_peer');
    u.searchParams.set('server_name_indication', tls.serverName ?? u.hostname);
    return u.toString();
  });
  return uris.length === 1 ? uris[0]! : uris;
}

const LINK_STATES = ['running', 'starting', 'terminated', 'blocked', 'flow', 'missing', 'unknown', 'other'];

/** Every buffered link the config asks for: its sources, plus the webhook exchange when webhooks are on. */
export function linksOf(config: RelayConfig): Array<BufferedLink & { broker: string }> {
  const links: Array<BufferedLink & { broker: string }> = config.sources.map((s) => ({
    ...s,
    centralKey: `site.${config.site}.${s.name}.${s.format}`,
  }));
  if (config.webhooks) {
    links.push({
      name: WEBHOOK_SOURCE,
      broker: config.webhooks.broker,
      exchange: config.webhooks.exchange,
      exchangeType: 'topic',
      // Only what the relay itself published for this site.
      bindingKeys: [`site.${config.site}.${WEBHOOK_SOURCE}.#`],
      maxLength: 1_000_000,
      mode: 'shovel',
    });
  }
  return links;
}

function wantedQueue(wanted: Map<string, ShovelDefinition>, name: string): string {
  return wanted.get(name)!['src-queue'];
}

function sameDefinition(a: unknown, b: ShovelDefinition): boolean {
  const x = a as Record<string, unknown>;
  const keys = new Set([...Object.keys(b), 'dest-exchange-key']);
  return [...keys].every((k) => JSON.stringify(x[k]) === JSON.stringify((b as unknown as Record<string, unknown>)[k]));
}
