import { Controller, Query, Sse, UseGuards } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { BearerGuard } from './auth.guard.js';
import { StreamService, type SseMessage } from './stream.service.js';
import { sha, text, ZodPipe } from './validation.js';

export const StreamQuery = z.strictObject({
  commit: sha.optional(),
  workItem: text(300).optional(),
  release: text(400).optional(),
  site: text(100).optional(),
  access_token: z.string().optional(),
});

@Controller('api/v1')
@UseGuards(BearerGuard)
export class StreamController {
  constructor(private readonly stream: StreamService) {}

  /** Server-Sent Events of graph changes; `?access_token=` is accepted here because EventSource cannot send headers. */
  @Sse('stream')
  changes(@Query(new ZodPipe(StreamQuery)) q: z.output<typeof StreamQuery>): Observable<SseMessage> {
    return this.stream.subscribe({ commit: q.commit, workItem: q.workItem, release: q.release, site: q.site });
  }
}
