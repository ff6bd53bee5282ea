import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { parseMessage, realisticChanges } from '@not/events';
import { StartupError } from '@not/config';
import { GraphRepository, type StoredEvent } from '@not/graph';
import { amqpVhost, BrokerAdmin, CENTRAL, centralUrls, prepareIngestQueue, queueExists, type CentralTopologyOptions } from '@not/messaging';
import { CorrelatorSettings } from './correlator.config.js';

/** Synthetic pipeline events (a realistic multi-site stream), parsed as the correlator parses, in batches. */
function warmUpBatches(n: number, size: number): StoredEvent[][] {
  // A seed of its own per start: correlators starting together never wait on each other's locks.
  const seed = `warm-up-${randomUUID().slice(0, 8)}`;
  const events: StoredEvent[] = [];
  for (let c = 0; events.length < n; c += 20) {
    for (const e of realisticChanges({ seed }, c, 20)) {
      const raw = JSON.stringify(e.event);
      const r = parseMessage({ body: Buffer.from(raw), headers: {}, routingKey: `site.warm-up-${e.site}.ci.eiffel` });
      if (r.ok) events.push(...r.events.map((x) => ({ ...x, raw })));
    }
  }
  const batches: StoredEvent[][] = [];
  for (let i = 0; i < n; i += size) batches.push(events.slice(i, Math.min(i + size, n)));
  return batches;
}

/**
 * What must hold before the correlator consumes anything, run by Nest's init: how the ingest queue
 * is declared is settled on the central broker (its policy set, or the queue found), Neo4j answers and
 * takes the credentials (failing fast with the setting to change), the schema exists, and the write
 * path is warmed on synthetic events in a transaction that is rolled back.
 */
@Injectable()
export class CorrelatorStartup implements OnModuleInit {
  private readonly log = new Logger('Bootstrap');

  constructor(
    private readonly graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
  ) {}

  /** How the central topology declares `not.ingest` (decided here, read when the correlator starts consuming). */
  ingestArguments: NonNullable<CentralTopologyOptions['ingestArguments']> = 'arguments';

  async onModuleInit(): Promise<void> {
    const { config } = this.settings;
    await this.prepareCentralQueues();
    await this.graph.verify();
    await this.graph.ensureSchema();
    if (config.warmUpEvents > 0) {
      // A warm-up that fails (a lock wait, a busy server) only costs speed: consuming starts anyway.
      await this.graph.warmUp(warmUpBatches(config.warmUpEvents, config.batch.size)).then(
        (ms) => this.log.log(`write path warmed on ${config.warmUpEvents} synthetic events in ${ms} ms (rolled back, nothing kept)`),
        (err: unknown) => this.log.warn(`write path warm-up skipped: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`),
      );
    }
  }

  /**
   * With `amqp.management`, the ingest queue's settings go in the policy `not-ingest` (set here, changed
   * here when `amqp.deliveryLimit` changes) and a new queue is declared with its type only. Without it, a
   * new queue is declared with its settings as arguments. An existing queue is used as it is either way,
   * also when the management API does not answer (a cluster's node that is down): the policy is then
   * left as it is, with a warning; only a queue still to be declared needs it.
   */
  private async prepareCentralQueues(): Promise<void> {
    const { management, deliveryLimit, url } = this.settings.config.amqp;
    const exists = (): Promise<boolean> =>
      queueExists(url, CENTRAL.ingestQueue).catch((err: unknown) => {
        throw new StartupError(err instanceof Error ? err.message : String(err), 'amqp.url');
      });
    if (!management) {
      this.ingestArguments = (await exists()) ? 'existing' : 'arguments';
      return;
    }
    let prepared: Awaited<ReturnType<typeof prepareIngestQueue>>;
    try {
      prepared = await prepareIngestQueue(new BrokerAdmin(management), deliveryLimit, amqpVhost(centralUrls(url)[0]!));
    } catch (err) {
      const reason = `the central broker's management API could not set the ingest queue's policy: ${err instanceof Error ? err.message : String(err)}`;
      if (!(await exists()))
        throw new StartupError(`${reason}; ${CENTRAL.ingestQueue} does not exist yet and is declared under that policy`, 'amqp.management');
      this.log.warn(`${reason}; using ${CENTRAL.ingestQueue} as it is, the policy not-ingest is checked again at the next start`);
      this.ingestArguments = 'existing';
      return;
    }
    this.ingestArguments = prepared.ingestArguments;
    if (prepared.policyChanged) this.log.log(`policy not-ingest set on the central broker (delivery limit ${deliveryLimit})`);
    if (prepared.notice) this.log.warn(prepared.notice);
  }
}
