import type { Rejection } from './model.js';

/**
 * Thrown inside the library only; `parseMessage` catches it and returns the rejection.
 * Nothing outside `libs/events` ever sees it.
 */
export class ParseFailure extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.field ? `${rejection.field}: ${rejection.reason}` : rejection.reason);
    this.name = 'ParseFailure';
  }
}

export function fail(reason: string, field?: string): never {
  throw new ParseFailure(field === undefined ? { reason } : { reason, field });
}
