import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BearerGuard } from '../auth.guard.js';
import { SEGMENTS } from '../lead-time.segments.js';
import { intString, isoTime, text, ZodPipe } from '../validation.js';
import { FINDING_TYPES } from './trends.detect.js';
import { DIMENSIONS } from './trends.series.js';
import { TrendsService } from './trends.service.js';
import type { InsightsDto, TrendsDto } from '../api.schemas.js';

const HOUR = 3_600_000;

export const TrendsQuery = z
  .strictObject({
    segment: z.enum(SEGMENTS).optional(),
    groupBy: z.enum(DIMENSIONS).default('all'),
    group: text(300).optional(),
    bucket: z.enum(['hour', 'day']).default('hour'),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .refine((q) => q.group === undefined || q.groupBy !== 'all', {
    message: 'give groupBy (area, site or repository) with group',
    path: ['group'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: '"from" must be before "to"', path: ['from'] })
  .refine(
    (q) =>
      q.from === undefined ||
      q.to === undefined ||
      (Date.parse(q.to) - Date.parse(q.from)) / (q.bucket === 'day' ? 24 * HOUR : HOUR) <= 5000,
    { message: 'at most 5000 buckets: narrow from/to or use bucket=day', path: ['to'] },
  );

export const InsightsQuery = z
  .strictObject({
    type: z.enum(FINDING_TYPES).optional(),
    segment: z.enum(SEGMENTS).optional(),
    area: text(300).optional(),
    site: text(200).optional(),
    limit: intString(1, 1000).default(100),
  })
  .refine((q) => q.area === undefined || q.site === undefined, {
    message: 'give area or site, not both (findings are per area or per site)',
    path: ['site'],
  });

@Controller('api/v1')
@UseGuards(BearerGuard)
export class TrendsController {
  constructor(private readonly trends: TrendsService) {}

  @Get('trends')
  series(@Query(new ZodPipe(TrendsQuery)) q: z.output<typeof TrendsQuery>): TrendsDto {
    return this.trends.trends(q);
  }

  @Get('insights')
  insights(@Query(new ZodPipe(InsightsQuery)) q: z.output<typeof InsightsQuery>): InsightsDto {
    return this.trends.insights(q);
  }
}
