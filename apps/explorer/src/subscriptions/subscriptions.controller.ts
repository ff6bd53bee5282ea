import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { subscriptionInputSchema, type FiringView, type Subscription } from '@not/graph';
import { z } from 'zod';
import { BearerGuard, TokenName } from '../auth.guard.js';
import { intString, ZodPipe } from '../validation.js';
import { SubscriptionsService } from './subscriptions.service.js';
import type { SubscriptionDto } from '../api.schemas.js';

export const SubscriptionParams = z.strictObject({
  id: z.string().regex(/^sub-[0-9a-f]{16}$/, 'must be a subscription id such as sub-0123456789abcdef'),
});
export const FiringsQuery = z.strictObject({ limit: intString(1, 10_000).default(100) });

@Controller('api/v1/subscriptions')
@UseGuards(BearerGuard)
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  create(
    @TokenName() owner: string,
    @Body(new ZodPipe(subscriptionInputSchema)) body: z.output<typeof subscriptionInputSchema>,
  ): Promise<SubscriptionDto> {
    return this.subscriptions.create(owner, body);
  }

  @Get()
  list(@TokenName() owner: string): Promise<Subscription[]> {
    return this.subscriptions.list(owner);
  }

  @Get(':id')
  get(@TokenName() owner: string, @Param(new ZodPipe(SubscriptionParams)) p: z.output<typeof SubscriptionParams>): Promise<Subscription> {
    return this.subscriptions.get(owner, p.id);
  }

  @Put(':id')
  replace(
    @TokenName() owner: string,
    @Param(new ZodPipe(SubscriptionParams)) p: z.output<typeof SubscriptionParams>,
    @Body(new ZodPipe(subscriptionInputSchema)) body: z.output<typeof subscriptionInputSchema>,
  ): Promise<SubscriptionDto> {
    return this.subscriptions.replace(owner, p.id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@TokenName() owner: string, @Param(new ZodPipe(SubscriptionParams)) p: z.output<typeof SubscriptionParams>): Promise<void> {
    return this.subscriptions.delete(owner, p.id);
  }

  @Get(':id/firings')
  firings(
    @TokenName() owner: string,
    @Param(new ZodPipe(SubscriptionParams)) p: z.output<typeof SubscriptionParams>,
    @Query(new ZodPipe(FiringsQuery)) q: z.output<typeof FiringsQuery>,
  ): Promise<FiringView[]> {
    return this.subscriptions.firings(owner, p.id, q.limit);
  }
}
