import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { GraphRepository, isTransientNeo4jError, type StoredEvent, type WriteResult } from '@not/graph';
import { PoisonMessageError } from '@not/messaging';
import { CorrelatorSettings } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';

interface Pending {
  readonly events: readonly StoredEvent[];
  readonly resolve: (r: WriteResult) => void;
  readonly reject: (err: Error) => void;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Collects the events of many messages into one write transaction (size or
 * max wait, whichever comes first). Each message's promise settles only when
 * its events are committed, so the consumer acks after the durable write.
 * Transient Neo4j failures are retried with back-off while the messages stay
 * unacked; a message that fails alone is rejected as poison, the rest commit.
 */
@Injectable()
export class BatchWriter implements OnModuleDestroy {
  private readonly log = new Logger(BatchWriter.name);
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
    private readonly metrics: CorrelatorMetrics,
  ) {}

  /** Called after each commit (the Eiffel bus publisher looks at its outbox then, the journey step runs). */
  onCommitted(listener: () => void): void {
    this.listeners.push(listener);
  }

  submit(events: readonly StoredEvent[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new Error('correlator is shutting down'));
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queuedEvents += events.length;
      if (this.queuedEvents >= this.settings.config.batch.size) this.schedule(0);
      else this.schedule(this.settings.config.batch.maxWaitMs);
    });
  }

  private schedule(delay: number): void {
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, delay);
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedEvents = 0;
    await this.writeWithRetry(batch);
    if (this.queue.length > 0) this.schedule(0);
  }

  private async writeWithRetry(batch: Pending[]): Promise<void> {
    const events = batch.flatMap((p) => p.events);
    for (let attempt = 0; ; attempt++) {
      const end = this.metrics.batchDuration.startTimer();
      try {
        const result = await this.graph.writeEvents(events);
        end({ result: 'ok' });
        this.metrics.batchSize.observe(events.length);
        this.metrics.conflicts.inc(result.conflicts.length);
        this.metrics.duplicates.inc(result.duplicates - result.conflicts.length);
        for (const id of result.conflicts) this.log.warn(`event ${id} arrived again with different content; kept the first`);
        if (attempt > 0) this.log.log(`Neo4j write succeeded after ${attempt} retries`);
        for (const p of batch) p.resolve(result);
        for (const l of this.listeners) l();
        return;
      } catch (err) {
        end({ result: 'error' });
        if (isTransientNeo4jError(err)) {
          this.metrics.retries.inc();
          const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(attempt, 6));
          if (attempt === 0 || attempt % 10 === 0) {
            this.log.warn(`Neo4j unavailable (${(err as Error).message.split('\n')[0]}); holding ${batch.length} messages, retrying`);
          }
          await sleep(delay);
          continue;
        }
        if (batch.length > 1) {
          // Split the batch so one bad message cannot block or lose the others.
          for (const p of batch) await this.writeWithRetry([p]);
          return;
        }
        const reason = `graph write failed: ${(err as Error).message.split('\n')[0]}`;
        for (const p of batch) p.reject(new PoisonMessageError(reason));
        return;
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
