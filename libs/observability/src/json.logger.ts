import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentRequestId } from './request-context.js';

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]+):([^@/\s]+)@/gi;

/** Masks the password of a URL written into free text (an error message naming a broker URI). */
export function redact(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

/** Fields whose values never reach a log line, wherever they sit in a logged object (pino's redaction by path). */
export const REDACTED_FIELDS: readonly string[] = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/** Nest's level names mapped to pino's (the names log tools know: trace/debug/info/warn/error/fatal). */
const PINO_LEVEL: Record<LogLevel, Level> = { verbose: 'trace', debug: 'debug', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };

/**
 * Structured JSON logs through pino, one line each: `level` as a name log tools map (`info`, `error`),
 * `time` in ISO 8601, the class name as `context`, the request id as `reqId` on every line logged while
 * a request is handled, and secret fields redacted by path.
 */
export class JsonLogger implements LoggerService {
  readonly pino: Logger;

  constructor(app: string, minLevel: LogLevel = 'log', destination?: DestinationStream) {
    this.pino = pino(
      {
        base: { app },
        level: PINO_LEVEL[minLevel],
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: [...REDACTED_FIELDS], censor: '***' },
        mixin: () => {
          const reqId = currentRequestId();
          return reqId === undefined ? {} : { reqId };
        },
      },
      destination ?? pino.destination({ dest: 1, sync: true }),
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    const target = this.pino[PINO_LEVEL[level]].bind(this.pino);
    if (!this.pino.isLevelEnabled(PINO_LEVEL[level])) return;
    // Nest passes the context (a class name) last, and for errors a stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      fields.error = message.name;
      const stack = rest.find((r): r is string => typeof r === 'string') ?? message.stack;
      if (this.pino.isLevelEnabled('debug') && stack) fields.stack = stack;
      target(fields, redact(message.message));
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...other } = message as Record<string, unknown>;
      target({ ...fields, ...other }, msg === undefined ? undefined : redact(String(msg)));
    } else {
      const stack = rest.find((r): r is string => typeof r === 'string');
      if (stack && level === 'error' && this.pino.isLevelEnabled('debug')) fields.stack = stack;
      target(fields, redact(String(message)));
    }
  }
}
