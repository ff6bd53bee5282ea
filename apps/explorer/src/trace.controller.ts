import { Controller, Get, Header, Param, Query, UseGuards } from '@nestjs/common';
import type { z } from 'zod';
import { BearerGuard } from './auth.guard.js';
import { TraceService } from './trace.service.js';
import type { ArtifactTraceDto, TraceDto } from './api.schemas.js';
import { ArtifactParams, ChangeParams, CommitParams, EmptyQuery, KeyParams, TraceQuery, ZodPipe } from './validation.js';

@Controller('api/v1/trace')
@UseGuards(BearerGuard)
export class TraceController {
  constructor(private readonly traces: TraceService) {}

  /** A TraceDto, sent as the JSON the service keeps for it. */
  @Get('commit/:sha')
  @Header('Content-Type', 'application/json; charset=utf-8')
  commit(
    @Param(new ZodPipe(CommitParams)) { sha }: z.output<typeof CommitParams>,
    @Query(new ZodPipe(TraceQuery)) q: z.output<typeof TraceQuery>,
  ): Promise<string> {
    return this.traces.forCommitJson(sha, q.repo);
  }

  @Get('work-item/:key')
  workItem(
    @Param(new ZodPipe(KeyParams)) { key }: z.output<typeof KeyParams>,
    @Query(new ZodPipe(EmptyQuery)) _q: object,
  ): Promise<TraceDto> {
    return this.traces.forWorkItem(key);
  }

  @Get('change/:id')
  change(
    @Param(new ZodPipe(ChangeParams)) { id }: z.output<typeof ChangeParams>,
    @Query(new ZodPipe(EmptyQuery)) _q: object,
  ): Promise<TraceDto> {
    return this.traces.forChange(id);
  }

  @Get('artifact/:ref')
  artifact(
    @Param(new ZodPipe(ArtifactParams)) { ref }: z.output<typeof ArtifactParams>,
    @Query(new ZodPipe(EmptyQuery)) _q: object,
  ): Promise<ArtifactTraceDto> {
    return this.traces.forArtifact(ref);
  }
}
