import type { LoggerService, LogLevel } from '@nestjs/common';

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]+):([^@/\s]+)@/gi;
const SECRET_FIELDS = /("?(?:password|pass|secret|token|authorization)"?\s*[:=]\s*)("[^"]*"|\S+)/gi;

/** Removes credentials from anything that might be logged. */
export function redact(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@').replace(SECRET_FIELDS, '$1"***"');
}

const ORDER: Record<LogLevel, number> = { verbose: 0, debug: 1, log: 2, warn: 3, error: 4, fatal: 5 };

/** Structured JSON logs, one line each, with the class name as context and secrets redacted. */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly app: string,
    private readonly minLevel: LogLevel = 'log',
    private readonly out: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

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
    if (ORDER[level] < ORDER[this.minLevel]) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, app: this.app };
    if (context) entry.context = context;
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.error = message.name;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
    } else {
      entry.msg = String(message);
    }
    const stack = rest.find((r): r is string => typeof r === 'string');
    if (stack && level === 'error' && this.minLevel === 'debug') entry.stack = stack;
    this.out(redact(JSON.stringify(entry)));
  }
}
