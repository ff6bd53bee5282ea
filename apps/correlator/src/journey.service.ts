import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { GraphRepository, Journeys, SubscriptionStore, WalkReads } from '@not/graph';
import { Counter, Histogram, Registry } from 'prom-client';
import { BatchWriter } from './batch.writer.js';
import { CorrelatorSettings } from './correlator.config.js';
import { NotificationDispatcher } from './notification.dispatcher.js';
import { idleDelay } from './outbox.loop.js';

/**
 * Keeps the journey read model up to date behind the batch writer: rounds of
 * {@link Journeys.step} back to back while there is work (events marked pending
 * by committed batches, journeys marked dirty), a look after `idleMs` when there
 * is none (doubling up to `idleMaxMs` while looks keep finding none), and at once
 * after a batch commits. Work left by a stop is in the graph and is picked up
 * at start. With subscriptions on, the rounds also record the firings the new facts cause, and the
 * dispatcher is woken when they did.
 */
@Injectable()
export class JourneyService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(JourneyService.name);
  private readonly journeys: Journeys;
  private readonly updated: Counter;
  private readonly duration: Histogram<'result'>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failing = false;
  private idle = true;
  /** Rounds in a row that found nothing to do. */
  private idleRounds = 0;

  constructor(
    graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
    registry: Registry,
    writer: BatchWriter,
    private readonly dispatcher: NotificationDispatcher,
  ) {
    const { walkSteps, events } = settings.config.journeys;
    const store = new SubscriptionStore(graph);
    const watch = settings.config.subscriptions.enabled ? () => store.enabled() : undefined;
    this.journeys = new Journeys(graph, new WalkReads(graph), () => ({ walkSteps, events }), watch);
    writer.onCommitted(() => {
      // A round waiting out its idle delay starts now; a running one is followed at once anyway.
      if (this.idle && !this.stopped && settings.config.journeys.enabled) this.loop(0);
    });
    this.updated = new Counter({
      name: 'traces_correlator_journeys_updated_total',
      help: 'Journeys recomputed after the events that touch them were written',
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'traces_correlator_journey_round_duration_seconds',
      help: 'Duration of one round of the journey step (pending events to dirty journeys, dirty journeys recomputed)',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  onApplicationBootstrap(): void {
    if (this.settings.config.journeys.enabled) this.loop(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private loop(delay: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.idle = delay > 0;
    this.timer = setTimeout(() => {
      this.idle = false;
      this.running = this.round().then((r) => {
        const { idleMs, idleMaxMs } = this.settings.config.journeys;
        this.idleRounds = r === 'idle' ? this.idleRounds + 1 : 0;
        this.loop(r === 'busy' ? 0 : idleDelay(idleMs, idleMaxMs, this.idleRounds));
      });
    }, delay);
  }

  /** One round: `busy` when it found work (the next one follows at once), `idle` when none, `failed`. */
  private async round(): Promise<'busy' | 'idle' | 'failed'> {
    const end = this.duration.startTimer();
    try {
      const r = await this.journeys.step(this.settings.config.journeys.batch);
      end({ result: r.events || r.journeys ? 'ok' : 'idle' });
      this.updated.inc(r.journeys);
      if (r.firings) this.dispatcher.kick();
      if (this.failing) this.log.log('journeys are being updated again');
      this.failing = false;
      return r.events > 0 || r.journeys > 0 ? 'busy' : 'idle';
    } catch (err) {
      end({ result: 'error' });
      if (!this.failing) {
        this.log.warn(
          `journeys could not be updated (retried every ${this.settings.config.journeys.idleMs} ms; the marks stay in the graph): ` +
            (err instanceof Error ? err.message.split('\n')[0] : String(err)),
        );
      }
      this.failing = true;
      return 'failed';
    }
  }
}
