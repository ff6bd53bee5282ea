import { Controller, Get, Param } from '@nestjs/common';
import { EventsService, type EventDto } from './events.service.js';

@Controller('api/v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get(':id')
  byId(@Param('id') id: string): Promise<EventDto> {
    return this.events.byId(id);
  }
}
