import { httpSchema, neo4jSchema } from '@not/config';
import { z } from 'zod';

export const explorerConfigSchema = z.strictObject({
  neo4j: neo4jSchema,
  http: httpSchema,
  logLevel: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});

export type ExplorerConfig = z.output<typeof explorerConfigSchema>;
