import { Injectable, Logger } from '@nestjs/common';
import { parseMessage, routingKeySegments, type ParseOptions, type TraceEvent } from '@not/events';
import type { StoredEvent } from '@not/graph';
import { isSepiaRoutingKey, keptRoutingKey, PoisonMessageError, sepiaRoutingKey, type AmqpMessage } from '@not/messaging';
import { BatchWriter } from './batch.writer.js';
import { CorrelatorSettings } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';

/**
 * When the message reached the system, for events that carry no time of their
 * own: taken from the message (publisher timestamp, else the shovel's), so a
 * redelivery parses to the same event and is not mistaken for a conflict.
 */
function receivedAt(msg: AmqpMessage): Date {
  const shovelled = Number(msg.headers['x-shovelled-timestamp']);
  const seconds = msg.timestamp ?? (Number.isFinite(shovelled) && shovelled > 0 ? shovelled : undefined);
  return seconds ? new Date(seconds * 1000) : new Date();
}

/** Parses one message and resolves when its events are committed to the graph. */
@Injectable()
export class IngestService {
  private readonly log = new Logger(IngestService.name);
  private readonly parseOptions: ParseOptions;
  private readonly eiffelBus: boolean;

  constructor(
    private readonly writer: BatchWriter,
    private readonly metrics: CorrelatorMetrics,
    settings: CorrelatorSettings,
  ) {
    this.eiffelBus = settings.config.eiffelBus.enabled;
    const p = settings.config.parse;
    this.parseOptions = {
      maxBytes: p.maxBytes,
      workItemPatterns: p.workItemPatterns,
      repositoryAliases: p.repositoryAliases,
      artifactBuilds: p.artifactBuilds,
      buildInfoBuilds: p.buildInfoBuilds,
    };
  }

  /**
   * Each event keeps the body it arrived in (the parser accepted it as UTF-8 JSON), and an Eiffel event
   * the routing key to republish it with on the central Eiffel bus: the Sepia key its tool used at the
   * site when the relay kept it (the source's `keepRoutingKey`), else one built from the event.
   */
  private withBody(msg: AmqpMessage, events: readonly TraceEvent[], site: string, source: string): StoredEvent[] {
    const raw = Buffer.from(msg.body).toString('utf8');
    if (!events.some((e) => e.format === 'eiffel')) return events.map((e) => ({ ...e, raw }));
    // An Eiffel message may hold an array of events: each keeps its own element, as it arrived.
    const json = JSON.parse(raw) as unknown;
    const own = new Map<string, string>();
    if (Array.isArray(json)) {
      for (const x of json as unknown[]) {
        const id = (x as { meta?: { id?: unknown } } | null)?.meta?.id;
        if (typeof id === 'string' && !own.has(id)) own.set(id, JSON.stringify(x));
      }
    }
    const kept = keptRoutingKey(msg.headers, site, source);
    return events.map((e) => {
      if (e.format !== 'eiffel') return { ...e, raw };
      const body = own.get(e.id) ?? raw;
      if (!this.eiffelBus) return { ...e, raw: body };
      const key =
        isSepiaRoutingKey(kept) && !Array.isArray(json)
          ? kept
          : sepiaRoutingKey(Array.isArray(json) ? (JSON.parse(body) as unknown) : json, e.site);
      return { ...e, raw: body, outbox: key };
    });
  }

  async accept(msg: AmqpMessage): Promise<void> {
    const { site = 'unknown', source = 'unknown', format = 'unknown' } = routingKeySegments(msg.routingKey);
    const parsed = parseMessage(
      { body: msg.body, headers: msg.headers, routingKey: msg.routingKey },
      { ...this.parseOptions, receivedAt: receivedAt(msg) },
    );
    if (!parsed.ok) {
      const { reason, field } = parsed.rejection;
      const text = field ? `${field}: ${reason}` : reason;
      this.metrics.events.inc({ site, format, stage: 'none', result: 'rejected' });
      this.metrics.deadLetters.inc({ reason: 'parse' });
      this.log.warn(`rejected message on ${msg.routingKey}: ${text}`);
      throw new PoisonMessageError(text);
    }
    try {
      const result = await this.writer.submit(this.withBody(msg, parsed.events, site, source));
      const now = Date.now();
      for (const e of parsed.events) {
        this.metrics.events.inc({ site: e.site, format: e.format, stage: e.stage, result: 'accepted' });
        if (e.props['unmodelled'] === true) this.metrics.unmodelled(e.format, e.type);
        const t = Date.parse(e.time);
        if (Number.isFinite(t)) this.metrics.latency.observe({ from: 'event' }, Math.max(0, (now - t) / 1000));
      }
      if (msg.timestamp) this.metrics.latency.observe({ from: 'shovel' }, Math.max(0, now / 1000 - msg.timestamp));
      void result;
    } catch (err) {
      if (err instanceof PoisonMessageError) this.metrics.deadLetters.inc({ reason: 'write' });
      throw err;
    }
  }
}
