import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { AmqpMessage } from '@not/messaging';
import { IngestService } from './ingest.service.js';

/** The pattern every message of `not.ingest` is handed to (see the correlator module's `patternOf`). */
export const INGEST_PATTERN = 'site-message';

/**
 * One handler for every wire format: the format is a segment of the routing key, and the parser
 * (`@not/events`) reads it from there and takes the message apart by it; an unknown format is
 * rejected with a reason and dead-lettered, not lost. The handler resolves when the message's events
 * are committed; only then is the message acked.
 */
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @EventPattern(INGEST_PATTERN)
  message(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }
}
