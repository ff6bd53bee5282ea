import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { StartupError, type Neo4jConfig } from '@not/config';
import type { TraceEvent } from '@not/events';
import neo4j, { type Driver, type ManagedTransaction, type QueryResult, type RecordShape } from 'neo4j-driver';
import { Histogram, type Registry } from 'prom-client';
import { toBatchRows, type BatchRows } from './batch-rows.js';
import { cypherIdent, SCHEMA_STATEMENTS } from './graph.schema.js';

export interface WriteResult {
  /** Events new to the graph (including placeholders filled in). */
  readonly created: number;
  /** Events already in the graph with the same content (redeliveries). */
  readonly duplicates: number;
  /** Events whose id was already in the graph with different content: the first is kept. */
  readonly conflicts: readonly string[];
}

const WRITE_EVENTS = `
UNWIND $events AS e
MERGE (n:Event {id: e.id})
WITH n, e, n.hash IS NULL AS fresh, n.hash AS oldHash
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET n += e.props, n.time = datetime(e.time), n.hash = e.hash
  REMOVE n:Placeholder)
RETURN e.id AS id, fresh, (NOT fresh AND oldHash <> e.hash) AS conflict`;

/** The Neo4j adapter: schema, idempotent batch writes, and the reads the apps need. No business rules. */
@Injectable()
export class GraphRepository implements OnModuleDestroy {
  private readonly log = new Logger(GraphRepository.name);
  private readonly driver: Driver;
  private histogram?: Histogram<'operation' | 'result'>;

  constructor(private readonly config: Neo4jConfig) {
    this.driver = neo4j.driver(config.url, neo4j.auth.basic(config.user, config.password), {
      disableLosslessIntegers: true,
      maxTransactionRetryTime: 15_000,
      connectionAcquisitionTimeout: 20_000,
      logging: { level: 'error', logger: (_level, message) => this.log.debug(message) },
    });
  }

  instrument(registry: Registry, app: string): void {
    this.histogram = new Histogram({
      name: `not_${app}_neo4j_duration_seconds`,
      help: 'Neo4j transaction duration',
      labelNames: ['operation', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Checks the server answers and accepts the credentials; a user-fixable failure says which setting to change. */
  async verify(): Promise<void> {
    try {
      await this.driver.verifyAuthentication();
      await this.driver.executeQuery('RETURN 1', {}, { database: this.config.database });
    } catch (err) {
      throw explainNeo4jError(err, this.config);
    }
  }

  async ensureSchema(): Promise<void> {
    for (const statement of SCHEMA_STATEMENTS) {
      await this.driver.executeQuery(statement, {}, { database: this.config.database });
    }
  }

  /** Writes a batch of events in one transaction; idempotent and order-free (see docs/graph-model.md). */
  async writeEvents(events: readonly TraceEvent[]): Promise<WriteResult> {
    const rows = toBatchRows(events);
    return this.timed('write', () => this.session('WRITE').executeWrite((tx) => writeBatch(tx, rows)));
  }

  /** Runs a read query with parameters only (never spliced text). */
  async read<T extends RecordShape = RecordShape>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const res: QueryResult<T> = await this.timed('read', () =>
      this.driver.executeQuery<QueryResult<T>>(query, params, { database: this.config.database, routing: 'READ' }),
    );
    return res.records.map((r) => r.toObject());
  }

  async ping(): Promise<void> {
    await this.driver.executeQuery('RETURN 1', {}, { database: this.config.database });
  }

  async onModuleDestroy(): Promise<void> {
    await this.driver.close();
  }

  private session(mode: 'READ' | 'WRITE') {
    const s = this.driver.session({ database: this.config.database, defaultAccessMode: mode });
    return {
      executeWrite: async <T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> => {
        try {
          return await s.executeWrite(work);
        } finally {
          await s.close();
        }
      },
    };
  }

  private async timed<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const end = this.histogram?.startTimer({ operation });
    try {
      const out = await fn();
      end?.({ result: 'ok' });
      return out;
    } catch (err) {
      end?.({ result: 'error' });
      throw err;
    }
  }
}

async function writeBatch(tx: ManagedTransaction, rows: BatchRows): Promise<WriteResult> {
  const res = await tx.run(WRITE_EVENTS, { events: rows.events });
  let created = 0;
  let duplicates = rows.duplicatesInBatch;
  const conflicts: string[] = [];
  for (const r of res.records) {
    if (r.get('fresh')) created++;
    else {
      duplicates++;
      if (r.get('conflict')) conflicts.push(r.get('id') as string);
    }
  }
  if (rows.sites.length) await tx.run('UNWIND $sites AS s MERGE (:Site {key: s})', { sites: rows.sites });
  for (const [label, list] of rows.entities) {
    await tx.run(
      `UNWIND $rows AS r
       MERGE (x:${cypherIdent(label)} {key: r.key}) SET x += r.props
       SET x.aliases = coalesce(x.aliases, []) + [a IN r.aliases WHERE NOT a IN coalesce(x.aliases, [])]
       WITH x, r UNWIND r.about AS ab
       MATCH (e:Event {id: ab.event})
       MERGE (e)-[:ABOUT {role: ab.role}]->(x)`,
      { rows: list },
    );
  }
  if (rows.links.length > 0) {
    // One statement for every link type: the relationship type is a parameter, checked to be a plain identifier.
    await tx.run(
      `UNWIND $rows AS l
       MATCH (a:Event {id: l.from})
       MERGE (b:Event {id: l.to}) ON CREATE SET b:Placeholder
       MERGE (a)-[r:$(l.type)]->(b)
       ON CREATE SET r.illegal = l.illegal`,
      { rows: rows.links },
    );
  }
  for (const [k, list] of rows.relations) {
    const [from, type, to] = k.split('|') as [string, string, string];
    await tx.run(
      `UNWIND $rows AS r MERGE (a:${cypherIdent(from)} {key: r.from}) MERGE (b:${cypherIdent(to)} {key: r.to})
       MERGE (a)-[:${cypherIdent(type)}]->(b)`,
      { rows: list },
    );
  }
  return { created, duplicates, conflicts };
}

/** Turns driver errors into messages naming the setting to change. */
export function explainNeo4jError(err: unknown, config: Pick<Neo4jConfig, 'url' | 'user'>): Error {
  const e = err as { code?: string; message?: string };
  if (e.code === 'Neo.ClientError.Security.Unauthorized' || /authentication failure|unauthorized/i.test(e.message ?? '')) {
    return new StartupError(`Neo4j at ${config.url} rejected the credentials of user "${config.user}"`, 'neo4j.password');
  }
  if (e.code === 'ServiceUnavailable' || e.code === 'SessionExpired' || /ECONNREFUSED|Could not perform discovery|Failed to connect/i.test(e.message ?? '')) {
    return new StartupError(`Neo4j at ${config.url} is unreachable (${firstLine(e.message)})`, 'neo4j.url');
  }
  if (e.code === 'Neo.ClientError.Database.DatabaseNotFound') {
    return new StartupError(`Neo4j at ${config.url} has no such database (${firstLine(e.message)})`, 'neo4j.database');
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Errors worth retrying with the messages held: the database is away or busy, not the data bad. */
export function isTransientNeo4jError(err: unknown): boolean {
  const e = err as { code?: string; retriable?: boolean; message?: string };
  if (e.retriable) return true;
  if (!e.code) return /ECONNREFUSED|ECONNRESET|socket|connection/i.test(e.message ?? '');
  return (
    e.code === 'ServiceUnavailable' ||
    e.code === 'SessionExpired' ||
    e.code.startsWith('Neo.TransientError.') ||
    e.code === 'Neo.ClientError.Cluster.NotALeader' ||
    e.code === 'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase'
  );
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0]!.slice(0, 200);
}
