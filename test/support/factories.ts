import { randomUUID } from 'node:crypto';
import type { TraceEvent } from '@not/events';

/** A canonical event with sensible defaults; override what the test is about. */
export function traceEvent(overrides: Partial<TraceEvent> = {}): TraceEvent {
  return {
    id: randomUUID(),
    type: 'EiffelActivityTriggeredEvent',
    stage: 'build',
    time: '2026-11-02T09:00:00.000Z',
    site: 'site-a',
    source: 'ci',
    format: 'eiffel',
    props: {},
    links: [],
    about: [],
    entities: [],
    relations: [],
    ...overrides,
  };
}
