import { Injectable, Logger } from '@nestjs/common';
import { parseMessage, type ParseOptions } from '@not/events';
import { PoisonMessageError, type AmqpMessage } from '@not/messaging';
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

  constructor(
    private readonly writer: BatchWriter,
    private readonly metrics: CorrelatorMetrics,
    settings: CorrelatorSettings,
  ) {
    const p = settings.config.parse;
    this.parseOptions = {
      maxBytes: p.maxBytes,
      workItemPatterns: p.workItemPatterns,
      repositoryAliases: p.repositoryAliases,
      artifactBuilds: p.artifactBuilds,
    };
  }

  async accept(msg: AmqpMessage): Promise<void> {
    const [, site = 'unknown', , format = 'unknown'] = msg.routingKey.split('.');
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
      const result = await this.writer.submit(parsed.events);
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
