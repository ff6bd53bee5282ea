import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  BrokerAdmin,
  bufferQueueName,
  intakeQueueName,
  linkName,
  ManagementApiError,
  RELAY_PREFIX,
  type QueueInfo,
  type ShovelDefinition,
} from '@not/messaging';
import {
  bufferPolicy,
  intakePolicy,
  centralShovel,
  centralVhost,
  federationPolicy,
  federationUpstream,
  linksOf,
  siteShovel,
  type Link,
} from './link-definitions.js';
import {
  bufferLimit,
  planBufferPolicies,
  planCentral,
  planSiteShovels,
  type FederatedLink,
  type ReconcileAction,
} from './reconcile.plan.js';
import { RelaySettings } from './relay.config.js';
import { RelayMetrics } from './relay.metrics.js';
import { bufferQueueType, SiteBroker } from './site-broker.js';

/**
 * Keeps the brokers in the state the config describes: on each site broker a
 * durable buffer queue per source and, in shovel mode, a shovel from it to the
 * central exchange; in federation mode, on the central broker, a federation
 * upstream + policy pulling that buffer queue into a central queue of the same
 * name and a local shovel from there to the central exchange. Run once at start
 * (Nest's application bootstrap), then every `reconcileIntervalSeconds`; logs each change once.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = new Logger(ReconcileService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastProblem = new Map<string, string>();
  private readonly stuck = new Map<string, { passes: number; attempts: number; wait: number }>();
  /** Sources whose buffer queue exists with the other type (after a mode change): not linked until resolved. */
  private readonly bufferConflicts = new Set<string>();
  /** Per source: the buffer queue's acknowledgement count at the last pass. */
  private readonly acked = new Map<string, number>();

  constructor(
    private readonly settings: RelaySettings,
    private readonly metrics: RelayMetrics,
  ) {}

  /** A first pass (awaited: the HTTP listener opens after it), then one every `reconcileIntervalSeconds`. */
  async onApplicationBootstrap(): Promise<void> {
    await this.reconcile();
    this.start();
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.reconcile()
        .catch((err: Error) => this.log.error(`reconcile failed: ${err.message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.settings.config.reconcileIntervalSeconds * 1000);
        });
    };
    this.timer = setTimeout(tick, this.settings.config.reconcileIntervalSeconds * 1000);
  }

  /** One pass over every broker; resolves when done. */
  async reconcile(): Promise<void> {
    const { config } = this.settings;
    const links = linksOf(config);
    let ok = true;
    for (const broker of config.brokers) {
      const admin = new BrokerAdmin(broker.management);
      const site = new SiteBroker(broker);
      const sources = links.filter((s) => s.broker === broker.name);
      try {
        await this.reconcileBroker(admin, site, sources);
        this.clearProblem(broker.name);
      } catch (err) {
        ok = false;
        this.metrics.reconcileErrors.inc({ site: config.site });
        this.reportProblem(broker.name, `broker "${broker.name}": ${(err as Error).message}`);
        // Federation links are judged from the central side, which may still reach this broker.
        for (const s of sources) if (s.mode === 'shovel') this.setLink(s, 'unknown');
      }
    }
    if (config.central.management) {
      const federated = links.filter((l) => l.mode === 'federation');
      try {
        await this.reconcileCentral(new BrokerAdmin(config.central.management), federated);
        this.clearProblem('central');
      } catch (err) {
        ok = false;
        this.metrics.reconcileErrors.inc({ site: config.site });
        this.reportProblem('central', `central broker: ${(err as Error).message}`);
        for (const s of federated) this.setLink(s, 'unknown');
      }
    }
    if (ok) this.metrics.lastReconcile.set({ site: config.site }, Date.now() / 1000);
  }

  /**
   * Progress of a link, from its buffer queue: acknowledgements grow while the link carries messages to
   * central, however slowly; a hung link (half-open, black-holed) holds them unacknowledged and the
   * acknowledgements stop. An empty buffer counts as progress (nothing waits).
   */
  private observeProgress(source: string, messages: number, acked: number): void {
    const labels = { site: this.settings.config.site, source };
    const before = this.acked.get(source);
    // The counter restarts with the queue (a broker restart): count from the new value.
    if (before !== undefined && acked > before) this.metrics.linkForwarded.inc(labels, acked - before);
    this.acked.set(source, acked);
    if (messages === 0 || before === undefined || acked !== before) this.metrics.linkLastProgress.set(labels, Date.now() / 1000);
  }

  private setLink(source: Link, state: string): void {
    const labels = { site: this.settings.config.site, source: source.name, mode: source.mode };
    this.metrics.linkUp.set(labels, state === 'running' ? 1 : 0);
    for (const s of LINK_STATES) this.metrics.linkState.set({ ...labels, state: s }, s === state ? 1 : 0);
  }

  private async reconcileBroker(admin: BrokerAdmin, site: SiteBroker, sources: Link[]): Promise<void> {
    const { config } = this.settings;
    const existing = new Map((await admin.listShovelParameters()).map((p) => [p.name, p.value]));
    const policies = new Map((await admin.listPolicies()).map((p) => [p.name, p]));
    const wanted = new Map<string, ShovelDefinition>();
    const changed = new Set<string>();
    /** Sources with an intake queue (kept, or left by keepRoutingKey): only theirs are read back below. */
    const withIntake = new Set<string>();
    // Every mode reads a durable buffer queue on the site broker, of the same name.
    for (const source of sources) {
      const queue = bufferQueueName(config.site, source.name);
      const intake = intakeQueueName(config.site, source.name);
      const type = bufferQueueType(source);
      const [current, currentIntake] = await Promise.all([queueInfo(admin, queue), queueInfo(admin, intake)]);
      if (source.keepRoutingKey || currentIntake) withIntake.add(source.name);
      // The limits first, as policies: a queue created below has them from its first message.
      const policy = new Map([[linkName(config.site, source.name), bufferPolicy(config.site, source)]]);
      if (source.keepRoutingKey) policy.set(intake, intakePolicy(config.site, source));
      for (const a of planBufferPolicies(policy, policies)) await this.apply(admin, a);
      if (current?.type && current.type !== type && source.mode === 'shovel') {
        // Left by federation mode: a shovel reads a classic queue as well; redeclaring it would fail.
        this.reportProblem(
          `${queue}:type`,
          `buffer queue ${queue} on broker "${site.config.name}" is a ${current.type} queue (left by federation mode); the shovel uses it as it is`,
        );
        wanted.set(linkName(config.site, source.name), siteShovel(config, site.config, source));
        continue;
      }
      if (current?.type && current.type !== type) {
        // Queue federation cannot read it safely; a redeclare would fail; deleting it could lose events. An operator decides.
        this.bufferConflicts.add(source.name);
        this.metrics.reconcileErrors.inc({ site: config.site });
        this.setLink(source, 'other');
        this.reportProblem(
          `${queue}:type`,
          `buffer queue ${queue} on broker "${site.config.name}" is a ${current.type} queue, but federation mode needs a ${type} one: ` +
            `switch the source back to shovel mode until the queue is empty, delete the queue, then switch to federation (the relay recreates it)`,
        );
        continue;
      }
      this.bufferConflicts.delete(source.name);
      this.clearProblem(`${queue}:type`);
      await site.declareBuffer(config.site, source, { buffer: current !== undefined, intake: currentIntake !== undefined });
      if (source.mode === 'shovel') wanted.set(linkName(config.site, source.name), siteShovel(config, site.config, source));
    }
    for (const a of planSiteShovels(wanted, existing, `${RELAY_PREFIX}-${config.site}-`)) {
      if (a.kind === 'put-shovel') changed.add(a.name);
      await this.apply(admin, a);
    }
    const states = new Map((await admin.shovelStatus()).map((s) => [s.name, s]));
    for (const source of sources) {
      const queue = bufferQueueName(config.site, source.name);
      const intake = intakeQueueName(config.site, source.name);
      const [q, i] = await Promise.all([
        admin.queue(queue).catch(() => undefined),
        withIntake.has(source.name) ? admin.queue(intake).catch(() => undefined) : undefined,
      ]);
      if (q) {
        const { limit, problem } = bufferLimit(queue, q, linkName(config.site, source.name), source.maxLength);
        if (limit !== undefined) this.metrics.bufferLimit.set({ site: config.site, source: source.name }, limit);
        if (problem) this.reportProblem(`${queue}:limit`, problem);
        else this.clearProblem(`${queue}:limit`);
      }
      const problem = i && intakeProblem(intake, i);
      if (problem) this.reportProblem(`${intake}:policy`, problem);
      else this.clearProblem(`${intake}:policy`);
      if (q?.messages !== undefined) {
        // What waits at the site: the buffer's messages and any the intake has not handed on yet.
        this.metrics.bufferMessages.set({ site: config.site, source: source.name }, q.messages + (i?.messages ?? 0));
        this.observeProgress(source.name, q.messages, q.message_stats?.ack ?? 0);
      }
      if (source.mode !== 'shovel') continue;
      const name = linkName(config.site, source.name);
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
    }
  }

  /**
   * Federation mode, on the central broker (in the vhost of the first central
   * URL): upstream, policy, federated queue and local shovel per federated
   * source; what belongs to sources no longer federated is removed — the
   * policy and upstream at once, the queue and its shovel once the queue is empty.
   */
  private async reconcileCentral(admin: BrokerAdmin, links: Link[]): Promise<void> {
    const { config } = this.settings;
    const vhost = centralVhost(config);
    const ownName = `${RELAY_PREFIX}-${config.site}-`;
    const ownQueue = `${RELAY_PREFIX}.${config.site}.`;
    const [upstreams, policies, shovels, queues] = await Promise.all([
      admin.listFederationUpstreams(vhost).catch((err: unknown) => {
        throw err instanceof ManagementApiError && err.status === 404
          ? new Error(
              'the federation plugin is not enabled on the central broker (rabbitmq-plugins enable rabbitmq_federation rabbitmq_federation_management)',
            )
          : err;
      }),
      admin.listPolicies(vhost),
      admin.listShovelParameters(vhost),
      admin.listQueues(vhost),
    ]);
    const federated: FederatedLink[] = links.map((link) => {
      const broker = config.brokers.find((b) => b.name === link.broker)!;
      return {
        name: linkName(config.site, link.name),
        queue: bufferQueueName(config.site, link.name),
        broker: broker.name,
        upstream: federationUpstream(broker, config.site, link),
        policy: federationPolicy(config.site, link),
        shovel: centralShovel(config, link),
        conflict: this.bufferConflicts.has(link.name),
      };
    });
    const { actions, waiting } = planCentral(
      federated,
      {
        upstreams: new Map(upstreams.map((u) => [u.name, u.value])),
        policies: new Map(policies.map((p) => [p.name, p])),
        shovels: new Map(shovels.map((x) => [x.name, x.value])),
        queues: new Map(queues.map((q) => [q.name, q])),
      },
      { ownName, ownQueue, linkOfQueue: (q) => linkName(config.site, q.slice(ownQueue.length)), exchange: config.central.exchange },
    );
    for (const [key, message] of waiting) this.reportProblem(key, message);
    const changed = new Set<string>();
    for (const a of actions) {
      if (a.kind !== 'retire-queue' && !a.kind.startsWith('delete-')) changed.add(a.name);
      await this.apply(admin, a, vhost);
    }

    if (links.length === 0) return;
    const [fedLinks, shovelStates] = await Promise.all([admin.federationLinks(vhost), admin.shovelStatus(vhost)]);
    for (const link of links) {
      if (this.bufferConflicts.has(link.name)) continue;
      const name = linkName(config.site, link.name);
      const queue = bufferQueueName(config.site, link.name);
      const fed = fedLinks.find((l) => l.upstream === name && l.queue === queue);
      const st = shovelStates.find((s) => s.name === name);
      // Up only when both halves run: the federation link (site → central queue) and the shovel (→ central exchange).
      const state = !fed ? 'missing' : fed.status !== 'running' ? fed.status : (st?.state ?? 'missing');
      this.setLink(link, LINK_STATES.includes(state) ? state : 'other');
      const key = `central:${name}`;
      if (state !== 'running' && !changed.has(name)) {
        const why =
          fed && fed.status !== 'running'
            ? `federation link ${name} is ${fed.status}${fed.error ? `: ${fed.error}` : ''}`
            : !fed
              ? `federation link ${name} is not reported by the central broker`
              : `central shovel ${name} is ${st?.state ?? 'not reported'}${st?.reason ? `: ${st.reason}` : ''}`;
        this.reportProblem(key, why);
        // Federation links reconnect by themselves (reconnect-delay); a stuck central shovel is restarted like a site one.
        if (fed?.status === 'running' && st) await this.restartIfStuck(admin, name, vhost, key);
      } else if (state === 'running') {
        this.clearProblem(key);
        this.stuck.delete(key);
      }
    }
  }

  /** Carries out one action of a plan through the management API, and logs and counts it. */
  private async apply(admin: BrokerAdmin, a: ReconcileAction, vhost = '/'): Promise<void> {
    switch (a.kind) {
      case 'put-shovel':
        await admin.putShovel(a.name, a.def, vhost);
        return this.action(a.verb, a.message);
      case 'delete-shovel':
        await admin.deleteShovel(a.name, vhost);
        return this.action('deleted', a.message);
      case 'put-upstream':
        await admin.putFederationUpstream(a.name, a.def, vhost);
        return this.action(a.verb, a.message);
      case 'delete-upstream':
        await admin.deleteFederationUpstream(a.name, vhost);
        return this.action('deleted', a.message);
      case 'put-policy':
        await admin.putPolicy(a.name, a.def, vhost);
        return this.action(a.verb, a.message);
      case 'delete-policy':
        await admin.deletePolicy(a.name, vhost);
        return this.action('deleted', a.message);
      case 'create-queue':
        // Classic: a transit queue (the durable buffer is the site's), and only classic queues can be deleted if-empty.
        await admin.putQueue(a.queue, { durable: true, arguments: { 'x-queue-type': 'classic' } }, vhost);
        return this.action('created', a.message);
      case 'retire-queue':
        if (a.shovel) await admin.deleteShovel(a.name, vhost);
        try {
          await admin.deleteQueueIfEmpty(a.queue, vhost);
        } catch (err) {
          if (a.shovel) await admin.putShovel(a.name, a.shovel, vhost);
          if (err instanceof ManagementApiError && err.status === 400) {
            this.reportProblem(
              `${a.name}:drain`,
              `central queue ${a.queue} still holds messages; its shovel ${a.name} stays until it is empty`,
            );
            return;
          }
          throw err;
        }
        this.clearProblem(`${a.name}:drain`);
        return this.action('deleted', a.message);
      default: {
        const never: never = a;
        throw new Error(`unknown reconcile action ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * A shovel not running on consecutive passes is restarted, with back-off
   * (1, 2, 4 … up to 32 passes between attempts) so a broken link is not hammered.
   */
  private async restartIfStuck(admin: BrokerAdmin, name: string, vhost = '/', key = name): Promise<void> {
    const s = this.stuck.get(key) ?? { passes: 0, attempts: 0, wait: 1 };
    s.passes++;
    this.stuck.set(key, s);
    if (s.passes < s.wait) return;
    s.passes = 0;
    s.attempts++;
    s.wait = Math.min(32, s.wait * 2);
    try {
      await admin.restartShovel(name, vhost);
      this.action('restarted', `restarted shovel ${name} (attempt ${s.attempts})`);
    } catch (err) {
      this.reportProblem(`${key}:restart`, `could not restart shovel ${name}: ${(err as Error).message}`);
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

  /** Shutdown: no new pass starts. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Waits for a pass in progress, so no broker change is left half made. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

function queueInfo(admin: BrokerAdmin, queue: string): Promise<QueueInfo | undefined> {
  return admin.queue(queue).catch((err: unknown) => {
    if (err instanceof ManagementApiError && err.status === 404) return undefined;
    throw err;
  });
}

/**
 * An intake queue whose policy is not the relay's hands nothing on to the buffer: its messages stay
 * (none is lost) until the policy is in effect. Nothing is judged before the broker reports the
 * queue's policy (seconds after the queue is declared).
 */
function intakeProblem(queue: string, info: Pick<QueueInfo, 'policy' | 'effective_policy_definition'>): string | undefined {
  if (info.effective_policy_definition === undefined || info.policy === queue) return undefined;
  const which = info.policy ? `policy ${info.policy} is in effect (a higher priority)` : 'no policy is in effect';
  return `intake queue ${queue}: ${which}, not ${queue}, so its messages are not handed on to the buffer; they wait there until it is (docs/relay.md, "Keeping the tool's routing key")`;
}

const LINK_STATES = ['running', 'starting', 'terminated', 'blocked', 'flow', 'error', 'shutdown', 'missing', 'unknown', 'other'];
