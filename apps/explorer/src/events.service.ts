import { Injectable, NotFoundException } from '@nestjs/common';
import { GraphRepository } from '@not/graph';

export interface EventDto {
  readonly id: string;
  readonly type: string;
  readonly stage: string;
  readonly time: string;
  readonly site: string;
  readonly source: string;
  readonly format: string;
  readonly links: Array<{ type: string; target: string }>;
}

@Injectable()
export class EventsService {
  constructor(private readonly graph: GraphRepository) {}

  async byId(id: string): Promise<EventDto> {
    const rows = await this.graph.read<{ e: Record<string, unknown>; links: Array<{ type: string; target: string }> }>(
      `MATCH (n:Event {id: $id}) WHERE NOT n:Placeholder
       OPTIONAL MATCH (n)-[r]->(t:Event)
       RETURN n {.id, .type, .stage, .site, .source, .format, time: toString(n.time)} AS e,
              [x IN collect({type: type(r), target: t.id}) WHERE x.target IS NOT NULL] AS links`,
      { id },
    );
    const row = rows[0];
    if (!row) throw new NotFoundException(`no event with id "${id}"`);
    return { ...(row.e as Omit<EventDto, 'links'>), links: row.links };
  }
}
