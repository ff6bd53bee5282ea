import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { GraphRepository } from '@not/graph';
import { describeConnectError } from '@not/messaging';
import { Counter, Registry } from 'prom-client';
import { BatchWriter } from './batch.writer.js';
import { CentralBroker } from './central.broker.js';
import { CorrelatorSettings } from './correlator.config.js';
import { OutboxLoop } from './outbox.loop.js';

const BATCH = 500;

/**
 * The central Eiffel bus. Each Eiffel event is put in the graph's outbox (`outbox` = its routing key) in
 * the transaction that first stores its body, so a redelivery, a replay or the same event from a second
 * site never queues it again. This publisher sends what the outbox holds, exactly as it arrived, to the
 * `eiffelBus.exchange` topic exchange with publisher confirms, and clears the entries the broker
 * confirmed. After a crash between the confirm and the clearing an event is sent again on restart (the
 * only case of a second publication), never lost.
 */
@Injectable()
export class EiffelBusPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(EiffelBusPublisher.name);
  private readonly published: Counter<'result'>;
  private readonly loop: OutboxLoop;

  constructor(
    private readonly graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
    private readonly broker: CentralBroker,
    writer: BatchWriter,
    registry: Registry,
  ) {
    this.published = new Counter({
      name: 'traces_correlator_eiffel_bus_published_total',
      help: 'Eiffel events republished on the central Eiffel bus (result: ok, error)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.loop = new OutboxLoop(
      () => this.drain(),
      () => settings.config.eiffelBus.pollMs,
      () => settings.config.eiffelBus.pollMaxMs,
    );
    if (settings.config.eiffelBus.enabled) writer.onCommitted(() => this.loop.kick());
  }

  onApplicationBootstrap(): void {
    const bus = this.settings.config.eiffelBus;
    if (!bus.enabled) {
      this.log.log('central Eiffel bus off (eiffelBus.enabled: false)');
      return;
    }
    this.log.log(`republishing Eiffel events on exchange "${bus.exchange}" with Sepia routing keys`);
    this.loop.kick();
  }

  /** Publishes what the outbox holds; true when it published something or failed (look again soon). */
  private async drain(): Promise<boolean> {
    try {
      let published = false;
      for (;;) {
        const rows = await this.graph.outbox(BATCH);
        if (!rows.length) return published;
        const exchange = this.settings.config.eiffelBus.exchange;
        const ch = await this.broker.confirmChannel(exchange);
        for (const r of rows) {
          ch.publish(exchange, r.key, Buffer.from(r.raw ?? '', 'utf8'), {
            persistent: true,
            contentType: 'application/json',
            messageId: r.id,
          });
        }
        await ch.waitForConfirms();
        await this.graph.clearOutbox(rows.map((r) => r.id));
        this.published.inc({ result: 'ok' }, rows.length);
        published = true;
        if (rows.length < BATCH) return true;
      }
    } catch (err) {
      this.published.inc({ result: 'error' });
      this.log.warn(`central Eiffel bus: ${describeConnectError(err)}; the outbox keeps the events, retrying`);
      await this.broker.drop();
      return true;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.close();
  }
}
