import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

@Injectable()
export class CorrelatorMetrics {
  readonly events: Counter<'site' | 'format' | 'stage' | 'result'>;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram<'result'>;
  readonly conflicts: Counter;
  readonly duplicates: Counter;
  readonly retries: Counter;
  readonly deadLetters: Counter<'reason'>;
  readonly latency: Histogram<'from'>;
  readonly ingestLag: Gauge;
  readonly placeholders: Gauge;
  readonly unmodelledEvents: Counter<'format' | 'kind'>;
  /** Kinds seen per format, to keep the `kind` label bounded. */
  private readonly unmodelledKinds = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.events = new Counter({
      name: 'traces_correlator_events_total',
      help: 'Messages consumed, by origin and result (accepted, duplicate, rejected)',
      labelNames: ['site', 'format', 'stage', 'result'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'traces_correlator_batch_size_events',
      help: 'Events per committed write batch',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'traces_correlator_batch_duration_seconds',
      help: 'Duration of one batch write transaction',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.conflicts = new Counter({
      name: 'traces_correlator_conflicts_total',
      help: 'Events whose id was already stored with different content (the first is kept)',
      registers,
    });
    this.duplicates = new Counter({
      name: 'traces_correlator_duplicates_total',
      help: 'Events delivered again that were already in the graph with the same content (at-least-once redeliveries)',
      registers,
    });
    this.retries = new Counter({
      name: 'traces_correlator_neo4j_retries_total',
      help: 'Batch writes retried after a transient Neo4j error',
      registers,
    });
    this.deadLetters = new Counter({
      name: 'traces_correlator_dead_letters_total',
      help: 'Messages sent to the dead-letter queue, by reason class',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'traces_correlator_end_to_end_latency_seconds',
      help: 'From the event time (from=event) or shovel timestamp (from=shovel) to commit',
      labelNames: ['from'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    });
    this.ingestLag = new Gauge({
      name: 'traces_correlator_ingest_queue_messages',
      help: 'Messages waiting in the central ingest queue (consumer lag)',
      registers,
    });
    this.unmodelledEvents = new Counter({
      name: 'traces_correlator_unmodelled_events_total',
      help: 'Events of a known tool whose kind the project does not model (kept as generic events), by format and kind',
      labelNames: ['format', 'kind'],
      registers,
    });
    this.placeholders = new Gauge({
      name: 'traces_correlator_placeholders_outstanding',
      help: 'Links whose target event has not arrived yet',
      registers,
    });
  }

  /** Counts an unmodelled event; past {@link MAX_UNMODELLED_KINDS} kinds per format, or for an odd name, as `other`. */
  unmodelled(format: string, kind: string): void {
    const kinds = this.unmodelledKinds.get(format) ?? new Set<string>();
    this.unmodelledKinds.set(format, kinds);
    const known = kinds.has(kind) || (/^[A-Za-z0-9_. :-]{1,60}$/.test(kind) && kinds.size < MAX_UNMODELLED_KINDS);
    if (known) kinds.add(kind);
    this.unmodelledEvents.inc({ format, kind: known ? kind : 'other' });
  }
}

/** Distinct `kind` label values per format of `traces_correlator_unmodelled_events_total`. */
const MAX_UNMODELLED_KINDS = 100;
