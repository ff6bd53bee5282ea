import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BearerGuard } from './auth.guard.js';
import { ReleaseService } from './release.service.js';
import type { ReleaseDto } from './api.schemas.js';
import { text, ZodPipe } from './validation.js';

export const ReleaseParams = z.strictObject({ product: text(200), version: text(200) });
export const ReleaseQuery = z.strictObject({ diff: text(200).optional() });

@Controller('api/v1/releases')
@UseGuards(BearerGuard)
export class ReleaseController {
  constructor(private readonly releases: ReleaseService) {}

  @Get(':product/:version')
  contents(
    @Param(new ZodPipe(ReleaseParams)) p: z.output<typeof ReleaseParams>,
    @Query(new ZodPipe(ReleaseQuery)) q: z.output<typeof ReleaseQuery>,
  ): Promise<ReleaseDto> {
    return this.releases.contents(p.product, p.version, q.diff);
  }
}
