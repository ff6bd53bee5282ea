import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ExplorerReads, GraphRepository, Journeys } from '@not/graph';
import { Counter, Histogram, Registry } from 'prom-client';
import { CorrelatorSettings } from './correlator.config.js';

/**
 * Keeps the journey read model up to date behind the batch writer: rounds of
 * {@link Journeys.step} back to back while there is work (events marked pending
 * by committed batches, journeys marked dirty), one look every `idleMs` when
 * there is none. Work left by a stop is in the graph and is picked up at start.
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

  constructor(
    graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
    registry: Registry,
  ) {
    const { walkSteps, events } = settings.config.journeys;
    this.journeys = new Journeys(graph, new ExplorerReads(graph), () => ({ walkSteps, events }));
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
    this.timer = setTimeout(() => {
      this.running = this.round().then((busy) => this.loop(busy ? 0 : this.settings.config.journeys.idleMs));
    }, delay);
  }

  /** One round; true when it found work (the next one follows at once). */
  private async round(): Promise<boolean> {
    const end = this.duration.startTimer();
    try {
      const r = await this.journeys.step(this.settings.config.journeys.batch);
      end({ result: r.events || r.journeys ? 'ok' : 'idle' });
      this.updated.inc(r.journeys);
      if (this.failing) this.log.log('journeys are being updated again');
      this.failing = false;
      return r.events > 0 || r.journeys > 0;
    } catch (err) {
      end({ result: 'error' });
      if (!this.failing) {
        this.log.warn(
          `journeys could not be updated (retried every ${this.settings.config.journeys.idleMs} ms; the marks stay in the graph): ` +
            (err instanceof Error ? err.message.split('\n')[0] : String(err)),
        );
      }
      this.failing = true;
      return false;
    }
  }
}
