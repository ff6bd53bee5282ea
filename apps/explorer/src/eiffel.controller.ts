import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { STAGES } from '@not/events';
import { z } from 'zod';
import { BearerGuard } from './auth.guard.js';
import { EiffelService } from './eiffel.service.js';
import type { EiffelEventDto, EventsPageDto, SearchDto } from './api.schemas.js';
import { intString, isoTime, text, ZodPipe } from './validation.js';

export const IdParams = z.strictObject({ id: text(256) });
export const EventsQuery = z
  .strictObject({
    'meta.type': text(200).optional(),
    meta: z.strictObject({ type: text(200).optional() }).optional(),
    site: text(100).optional(),
    stage: z.enum(STAGES).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    pageNo: intString(1, 1_000_000).default(1),
    pageSize: intString(1, 1000).default(100),
  })
  .transform(({ meta, 'meta.type': metaType, pageNo, pageSize, ...rest }) => ({
    filter: { ...rest, type: metaType ?? meta?.type },
    pageNo,
    pageSize,
  }));
const linkTypes = z
  .array(z.string().regex(/^(ALL|[A-Z][A-Z0-9_]{0,63})$/, 'must be ALL or an upper-case link type such as CAUSE'))
  .max(100);
export const SearchBody = z.strictObject({ dlt: linkTypes.default([]), ult: linkTypes.default([]) });
export const SearchQuery = z.strictObject({
  levels: z.union([z.literal('-1'), intString(1, 200)]).default(10),
  limit: z.union([z.literal('-1'), intString(1, 100_000)]).default(1000),
  tree: z.enum(['false']).optional(),
});

/** Eiffel event-repository compatible reads, so Eiffel tools can use the explorer as their event repository. */
@Controller('api/v1')
@UseGuards(BearerGuard)
export class EiffelController {
  constructor(private readonly eiffel: EiffelService) {}

  @Get('events/:id')
  byId(@Param(new ZodPipe(IdParams)) { id }: z.output<typeof IdParams>): Promise<EiffelEventDto> {
    return this.eiffel.byId(id);
  }

  /** The event's body exactly as it arrived, whatever its format. */
  @Get('events/:id/raw')
  async raw(@Param(new ZodPipe(IdParams)) { id }: z.output<typeof IdParams>, @Res() res: Response): Promise<void> {
    const raw = await this.eiffel.raw(id);
    res.status(200).type('application/json').send(raw);
  }

  @Get('events')
  list(@Query(new ZodPipe(EventsQuery)) q: z.output<typeof EventsQuery>): Promise<EventsPageDto> {
    return this.eiffel.page(q.filter, q.pageNo, q.pageSize);
  }

  @Post('search/:id')
  @HttpCode(200)
  search(
    @Param(new ZodPipe(IdParams)) { id }: z.output<typeof IdParams>,
    @Query(new ZodPipe(SearchQuery)) q: z.output<typeof SearchQuery>,
    @Body(new ZodPipe(SearchBody)) body: z.output<typeof SearchBody>,
  ): Promise<SearchDto> {
    const levels = q.levels === '-1' ? this.eiffel.maxLevels : q.levels;
    const limit = q.limit === '-1' ? 100_000 : q.limit;
    return this.eiffel.search(id, { ...body, levels, limit });
  }
}
