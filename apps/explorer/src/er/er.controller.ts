import { Body, Controller, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { ErReadGuard } from './er.guard.js';
import { ErService } from './er.service.js';
import type { ErPage, ErSearch } from '../api.schemas.js';

/**
 * The Eiffel Event Repository API as eiffel-goer publishes it (api/openapi-spec.yaml) and Eiffel
 * Intelligence calls it (ERQueryService): mounted at `eiffelApi.basePath` (default `/er`, set when the
 * module is built). Query strings are read raw, because goer's filters are not `name=value` pairs
 * (`int(data.x)>=3`, `!data.customData`); parameters it does not know are ignored.
 */
@Controller('er')
@UseGuards(ErReadGuard)
export class ErController {
  constructor(private readonly er: ErService) {}

  @Get('events/:id')
  byId(@Param('id') id: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.er.byId(id, rawQuery(req));
  }

  @Get('events')
  events(@Req() req: Request): Promise<ErPage> {
    return this.er.events(rawQuery(req));
  }

  @Post('search/:id')
  @HttpCode(200)
  search(@Param('id') id: string, @Req() req: Request, @Body() body: unknown): Promise<ErSearch> {
    return this.er.search(id, rawQuery(req), body);
  }
}

function rawQuery(req: Request): string {
  const i = req.originalUrl.indexOf('?');
  return i < 0 ? '' : req.originalUrl.slice(i + 1);
}
