import { Controller, HttpCode, NotFoundException, Param, ParseEnumPipe, Post, Query, Req } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { WEBHOOK_KINDS, type WebhookKind } from './relay.config.js';
import { WebhookService, type Accepted } from './webhook.service.js';

/** `POST /webhooks/{github|gitlab|gitea|nexus|artifactory|verdaccio|jenkins|git-hook|generic|cloudevents|jira}` */
@Controller('webhooks')
export class WebhookController {
  constructor(private readonly webhooks: WebhookService) {}

  @Post(':kind')
  @HttpCode(202)
  receive(
    @Param('kind', new ParseEnumPipe(WEBHOOK_KINDS, { exceptionFactory: () => new NotFoundException(UNKNOWN) })) kind: WebhookKind,
    @Req() req: IncomingMessage,
    @Query('format') format?: string,
  ): Promise<Accepted> {
    return this.webhooks.accept(kind, req, format);
  }
}

const UNKNOWN = `unknown webhook endpoint; use one of ${WEBHOOK_KINDS.map((k) => `/webhooks/${k}`).join(', ')}`;
