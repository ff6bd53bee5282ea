import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { GraphRepository } from '@not/graph';
import { CENTRAL, RascalServer } from '@not/messaging';
import { HealthRegistry } from '@not/observability';
import { CorrelatorMetrics } from './correlator.metrics.js';

const INTERVAL_MS = 15_000;

/**
 * Readiness (Neo4j and the central broker answer) and the slow-moving gauges:
 * consumer lag (ingest queue depth) and placeholders still waiting for their event.
 */
@Injectable()
export class MonitorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(MonitorService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly server: RascalServer,
    private readonly graph: GraphRepository,
    private readonly metrics: CorrelatorMetrics,
    health: HealthRegistry,
  ) {
    health.register('neo4j', () => graph.ping());
    health.register('broker', () => server.checkBroker());
  }

  /** Samples now and every 15 s (the queue depth once the ingest subscription has connected). */
  onApplicationBootstrap(): void {
    const tick = (): void => {
      void this.sample().finally(() => {
        this.timer = setTimeout(tick, INTERVAL_MS);
      });
    };
    tick();
  }

  async sample(): Promise<void> {
    await Promise.all([
      this.server.queueDepth(CENTRAL.ingestQueue).then(
        (n) => this.metrics.ingestLag.set(n),
        (err: Error) => this.log.debug(`queue depth unavailable: ${err.message}`),
      ),
      this.graph.placeholders().then(
        (n) => this.metrics.placeholders.set(n),
        (err: Error) => this.log.debug(`placeholder count unavailable: ${err.message}`),
      ),
    ]);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }
}
