import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { formatPath } from '@not/config';
import { z } from 'zod';

/** Validates a route's params, query or body with a zod schema; a bad input gets 400 listing every problem. */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, meta: ArgumentMetadata): z.output<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const where = meta.type === 'param' ? 'path' : meta.type === 'custom' ? 'input' : meta.type;
    const problems = result.error.issues.map((i) => `${where} ${formatPath(i.path) || '(whole)'}: ${describe(i)}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems.join('; '), problems });
  }
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown parameter(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/** Shared input shapes. Every string has a length bound and, where it is an identity, a character set. */
export const sha = z
  .string()
  .regex(/^[0-9a-fA-F]{4,40}$/, 'must be 4 to 40 hexadecimal digits (a full or abbreviated commit sha)')
  .transform((s) => s.toLowerCase());
export const text = (max = 512) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
export const isoTime = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && Number.isFinite(Date.parse(s)), {
    message: 'must be an ISO-8601 date or date-time, e.g. 2026-11-02 or 2026-11-02T09:00:00Z',
  })
  .transform((s) => new Date(s).toISOString());
export const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const CommitParams = z.strictObject({ sha });
export const TraceQuery = z.strictObject({ repo: text(300).optional() });
export const KeyParams = z.strictObject({ key: text(300) });
export const ChangeParams = z.strictObject({ id: text(400) });
export const ArtifactParams = z.strictObject({ ref: text(600) });
export const EmptyQuery = z.strictObject({});
