import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BearerGuard } from './auth.guard.js';
import { LeadTimeService } from './lead-time.service.js';
import { LEAD_TIME_STARTS } from './lead-time.segments.js';
import type { LeadTimeDto } from './api.schemas.js';
import { isoTime, text, ZodPipe } from './validation.js';

const DAY = 86_400_000;
export const LeadTimeQuery = z
  .strictObject({
    from: isoTime.optional(),
    to: isoTime.optional(),
    until: z.enum(['merge', 'build', 'artifact', 'test', 'publication', 'promotion', 'deployment', 'release']).default('release'),
    area: text(300).optional(),
    groupBy: z.enum(['stage', 'area', 'site']).default('stage'),
    environment: text(200).optional(),
    start: z.enum(LEAD_TIME_STARTS).optional(),
  })
  .transform((q) => {
    const to = q.to ?? new Date().toISOString();
    return { ...q, to, from: q.from ?? new Date(Date.parse(to) - 30 * DAY).toISOString() };
  })
  .refine((q) => q.environment === undefined || q.until === 'deployment', {
    message: 'is only for until=deployment (lead time and DORA to the deployments in that environment)',
    path: ['environment'],
  })
  .refine((q) => q.from < q.to, { message: '"from" must be before "to"', path: ['from'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * DAY, { message: 'the window may span at most 366 days', path: ['to'] });

@Controller('api/v1/lead-time')
@UseGuards(BearerGuard)
export class LeadTimeController {
  constructor(private readonly leadTimes: LeadTimeService) {}

  @Get()
  leadTime(@Query(new ZodPipe(LeadTimeQuery)) q: z.output<typeof LeadTimeQuery>): Promise<LeadTimeDto> {
    return this.leadTimes.leadTime(q);
  }
}
