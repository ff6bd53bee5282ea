import { randomBytes } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { SubscriptionStore, type FiringView, type Subscription, type SubscriptionInput } from '@not/graph';
import type { ExplorerConfig } from '../explorer.config.js';
import { EXPLORER_CONFIG } from '../explorer.tokens.js';
import type { SubscriptionDto } from '../api.schemas.js';

/**
 * Subscriptions as data (docs/explorer.md, "Subscriptions"): each belongs to the name of the token that
 * created it and is seen and changed only with a token of that name. The correlator evaluates them as
 * events arrive; this service only keeps them.
 */
@Injectable()
export class SubscriptionsService {
  private readonly store: SubscriptionStore;

  constructor(
    store: SubscriptionStore,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {
    this.store = store;
  }

  async create(owner: string, input: SubscriptionInput): Promise<SubscriptionDto> {
    const now = new Date().toISOString();
    const s: Subscription = {
      ...input,
      id: `sub-${randomBytes(8).toString('hex')}`,
      owner,
      createdAt: now,
      updatedAt: now,
      areas: this.config.areas,
    };
    const secret = this.secretFor(input, null);
    await this.store.save(s, secret);
    return this.shown(s, input.delivery.type === 'webhook' && !input.delivery.secret ? (secret ?? undefined) : undefined);
  }

  list(owner: string): Promise<Subscription[]> {
    return this.store.list(owner);
  }

  async get(owner: string, id: string): Promise<Subscription> {
    const s = await this.store.get(id);
    // Another owner's subscription is answered as missing: its existence is not theirs to know.
    if (!s || s.owner !== owner)
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no subscription "${id}" of ${owner}` });
    return s;
  }

  async replace(owner: string, id: string, input: SubscriptionInput): Promise<SubscriptionDto> {
    const old = await this.get(owner, id);
    const s: Subscription = {
      ...input,
      id,
      owner,
      createdAt: old.createdAt,
      updatedAt: new Date().toISOString(),
      areas: this.config.areas,
    };
    const kept = await this.store.secretOf(id);
    const secret = this.secretFor(input, kept);
    await this.store.save(s, secret);
    return this.shown(
      s,
      input.delivery.type === 'webhook' && !input.delivery.secret && secret !== kept ? (secret ?? undefined) : undefined,
    );
  }

  async delete(owner: string, id: string): Promise<void> {
    await this.get(owner, id);
    await this.store.delete(id);
  }

  async firings(owner: string, id: string, limit: number): Promise<FiringView[]> {
    await this.get(owner, id);
    return this.store.firings(id, limit);
  }

  /** The secret to sign with: the one given, else the one kept, else a new one (webhooks only). */
  private secretFor(input: SubscriptionInput, kept: string | null): string | null {
    if (input.delivery.type !== 'webhook') return null;
    return input.delivery.secret ?? kept ?? randomBytes(24).toString('hex');
  }

  private shown(s: Subscription, secret: string | undefined): SubscriptionDto {
    const delivery = s.delivery.type === 'webhook' ? { type: 'webhook' as const, url: s.delivery.url } : s.delivery;
    return { ...s, delivery, ...(secret !== undefined ? { secret } : {}) };
  }
}
