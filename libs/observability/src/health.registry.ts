import { Injectable } from '@nestjs/common';

export type HealthCheck = () => Promise<void>;

export interface HealthReport {
  readonly status: 'ok' | 'error';
  readonly checks: Record<string, { status: 'ok' | 'error'; error?: string }>;
}

/** Components register readiness checks here; `/health/ready` runs them all. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async report(timeoutMs = 3000): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, `${name} check timed out after ${timeoutMs} ms`);
          return [name, { status: 'ok' as const }] as const;
        } catch (err) {
          return [name, { status: 'error' as const, error: err instanceof Error ? err.message : String(err) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const status = entries.every(([, r]) => r.status === 'ok') ? 'ok' : 'error';
    return { status, checks };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
