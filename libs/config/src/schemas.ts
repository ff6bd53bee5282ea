import { z } from 'zod';

/** Shared pieces of the apps' configuration schemas. */
export const port = z.number().int().min(1).max(65535);

export const amqpUrl = z.string().refine((s) => /^amqps?:\/\//.test(s), { message: 'must be an amqp:// or amqps:// URL' });

export const httpUrl = z.string().refine((s) => /^https?:\/\//.test(s), { message: 'must be an http:// or https:// URL' });

/** A RabbitMQ management HTTP API and the user that calls it. */
export const managementSchema = z.strictObject({ url: httpUrl, user: z.string().min(1), password: z.string().min(1) });

export const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes (it becomes part of routing keys and names)');

export const httpSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port,
});

export const neo4jSchema = z.strictObject({
  url: z.string().refine((s) => /^(bolt|neo4j)(\+s|\+ssc)?:\/\//.test(s), { message: 'must be a bolt:// or neo4j:// URL' }),
  user: z.string().min(1).default('neo4j'),
  password: z.string().min(1),
  database: z.string().min(1).default('neo4j'),
});

export type Neo4jConfig = z.output<typeof neo4jSchema>;
