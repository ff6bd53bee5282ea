import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { AmqpMessage } from '@not/messaging';
import { IngestService } from './ingest.service.js';

/**
 * One handler per wire format (the routing key's format segment). Each resolves
 * when the message's events are committed; only then is the message acked.
 */
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @EventPattern('eiffel')
  eiffel(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('cdevents')
  cdevents(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('jenkins')
  jenkins(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('gerrit')
  gerrit(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('github')
  github(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('gitlab')
  gitlab(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('gitea')
  gitea(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('git-hook')
  gitHook(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('nexus')
  nexus(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('artifactory')
  artifactory(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('verdaccio')
  verdaccio(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  @EventPattern('jira')
  jira(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }

  /** Unknown formats: the parser rejects them with a reason, so they are dead-lettered, not lost. */
  @EventPattern('*')
  unknown(@Payload() msg: AmqpMessage): Promise<void> {
    return this.ingest.accept(msg);
  }
}
