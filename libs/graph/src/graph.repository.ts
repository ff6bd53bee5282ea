import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { StartupError, type Neo4jConfig } from '@not/config';
import neo4j, { type BookmarkManager, type Driver, type ManagedTransaction, type QueryResult, type RecordShape } from 'neo4j-driver';
import { Histogram, type Registry } from 'prom-client';
import { toBatchRows, type AliasedRow, type StoredEvent } from './batch-rows.js';
import { cdeventsJoinRows, joinCdeventsLinks } from './cdevents-links.js';
import { groupBy } from './collections.js';
import { ALIASED_LABELS, aliasId, keyRank, rankKeys } from './entity-keys.js';
import { cypherIdent, SCHEMA_STATEMENTS } from './graph.schema.js';
import { MARK_JOURNEYS_PENDING } from './journey.js';
import { untraced } from './untraced.js';

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
  SET n += e.props, n.time = datetime(e.time), n.hash = e.hash, n.ingestedAt = datetime.realtime()
  REMOVE n:Placeholder)
RETURN e.id AS id, fresh, (NOT fresh AND oldHash <> e.hash) AS conflict`;

/**
 * The body each event arrived in, kept verbatim beside the canonical model, written once: on the event's
 * first write, or on a redelivery or replay with the same content (a graph written before bodies were
 * kept). A conflicting event (same id, other content) never replaces the first one's body. The outbox
 * (Eiffel events to republish on the central Eiffel bus) is set in the same transaction, so an event is
 * queued for publication exactly when its body is first stored.
 */
const WRITE_RAW = `
UNWIND $rows AS r
MATCH (n:Event {id: r.id}) WHERE n.raw IS NULL AND n.hash = r.hash
SET n.raw = r.raw
FOREACH (_ IN CASE WHEN r.outbox IS NULL THEN [] ELSE [1] END | SET n.outbox = r.outbox)`;

/** How long reads and write transactions keep retrying transient failures (Neo4j restarting, a dropped connection). */
const RETRY_MS = 15_000;

/** The Neo4j adapter: schema, idempotent batch writes, and the reads the apps need. No business rules. */
@Injectable()
export class GraphRepository implements OnModuleDestroy {
  private readonly log = new Logger(GraphRepository.name);
  private readonly driver: Driver;
  /**
   * One causal chain for every session of this process: on a cluster (`neo4j://` routing), reads go to
   * followers and writes to the leader, and a read waits until its server has seen this process's last
   * write (read-your-writes). On a single server the bookmarks cost nothing.
   */
  private readonly bookmarks: BookmarkManager = neo4j.bookmarkManager();
  private histogram?: Histogram<'operation' | 'result' | 'query'>;
  private readonly queryNames = new Map<string, string>();

  constructor(private readonly config: Neo4jConfig) {
    this.driver = neo4j.driver(config.url, neo4j.auth.basic(config.user, config.password), {
      disableLosslessIntegers: true,
      maxTransactionRetryTime: RETRY_MS,
      connectionAcquisitionTimeout: 20_000,
      logging: { level: 'error', logger: (_level, message) => this.log.debug(message) },
    });
  }

  instrument(registry: Registry, app: string): void {
    this.histogram = new Histogram({
      name: `traces_${app}_neo4j_duration_seconds`,
      help: 'Neo4j transaction duration (query: the function that sent it, as in libs/graph/queries.cypher)',
      labelNames: ['operation', 'result', 'query'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Checks the server answers and accepts the credentials; a user-fixable failure says which setting to change. */
  async verify(): Promise<void> {
    try {
      await this.driver.verifyAuthentication();
      await this.driver.executeQuery('RETURN 1', {}, { database: this.config.database, bookmarkManager: this.bookmarks });
    } catch (err) {
      throw explainNeo4jError(err, this.config);
    }
  }

  async ensureSchema(): Promise<void> {
    for (const statement of SCHEMA_STATEMENTS) {
      await this.driver.executeQuery(statement, {}, { database: this.config.database, bookmarkManager: this.bookmarks });
    }
    await this.indexAliases();
  }

  /**
   * Gives entities written before alias nodes existed (no `keyRank` yet) an alias node per key, so they are
   * found by every key like the rest. Nothing to do on a graph written by this version.
   */
  private async indexAliases(): Promise<void> {
    let total = 0;
    for (const label of ALIASED_LABELS) {
      for (;;) {
        const res = await this.driver.executeQuery(
          `MATCH (x:${cypherIdent(label)}) WHERE x.keyRank IS NULL RETURN elementId(x) AS id, x.key AS key, x.aliases AS aliases LIMIT 1000`,
          {},
          { database: this.config.database, bookmarkManager: this.bookmarks },
        );
        if (res.records.length === 0) break;
        const rows = res.records.map((r) => {
          const keys = [r.get('key') as string, ...((r.get('aliases') as string[] | null) ?? [])];
          return { id: r.get('id') as string, rank: keyRank(label, keys[0]!), ids: keys.map((k) => aliasId(label, k)) };
        });
        await this.driver.executeQuery(
          `UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
           SET x.keyRank = r.rank
           WITH x, r UNWIND r.ids AS id
           MERGE (al:Alias {id: id}) MERGE (al)-[:ALIAS_OF]->(x)`,
          { rows },
          { database: this.config.database, bookmarkManager: this.bookmarks },
        );
        total += rows.length;
      }
    }
    if (total > 0) this.log.log(`indexed the keys of ${total} entities written by an earlier version`);
  }

  /**
   * Runs the write path on the given batches in transactions that are rolled back: the server plans
   * the statements and compiles their hot paths before the first real batch, and nothing is kept (a
   * fresh Neo4j writes the first thousands of events several times slower). Returns the time it took.
   */
  async warmUp(batches: ReadonlyArray<readonly StoredEvent[]>): Promise<number> {
    const t0 = Date.now();
    for (const events of batches) await this.rolledBack((tx) => writeBatch(tx, events));
    return Date.now() - t0;
  }

  /**
   * Runs the write path on one batch with PROFILE, in a transaction that is rolled back, and returns what
   * each statement cost on the server (the benchmark's `--profile`): nothing is kept.
   */
  async profileWrite(events: readonly StoredEvent[]): Promise<StatementProfile[]> {
    const out: StatementProfile[] = [];
    await this.rolledBack((tx) =>
      writeBatch(tx, events, (query, params) =>
        tx.run(`PROFILE ${query}`, params).then((res) => {
          out.push(statementProfile(query, res));
          return res;
        }),
      ),
    );
    return out;
  }

  /** Runs `work` in a write transaction that is always rolled back: nothing it writes is kept. */
  private async rolledBack(work: (tx: ManagedTransaction) => Promise<unknown>): Promise<void> {
    const session = this.driver.session({ database: this.config.database, defaultAccessMode: neo4j.session.WRITE });
    const tx = session.beginTransaction();
    try {
      await work(tx as unknown as ManagedTransaction);
    } finally {
      await tx.rollback().catch(() => undefined);
      await session.close();
    }
  }

  /** Writes a batch of events in one transaction; idempotent and order-free (see docs/graph-model.md). */
  async writeEvents(events: readonly StoredEvent[]): Promise<WriteResult> {
    // CDEvents links into another tool's events (cdevents-links.ts), once the batch's events and links are written.
    const cdevents = cdeventsJoinRows(events);
    return this.timed(
      'write',
      () =>
        this.session('WRITE').executeWrite(async (tx) => {
          const result = await writeBatch(tx, events);
          await joinCdeventsLinks(tx, cdevents);
          return result;
        }),
      'GraphRepository.writeEvents',
    );
  }

  /**
   * Runs a read query with parameters only (never spliced text), in an auto-commit transaction: one
   * round trip, where a managed transaction takes two (BEGIN with the query, then COMMIT) — a trace
   * runs five or six reads in a row. Transient failures are retried for RETRY_MS, as writes are.
   */
  async read<T extends RecordShape = RecordShape>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    return this.timed(
      'read',
      async () => {
        const deadline = Date.now() + RETRY_MS;
        for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
          const session = this.driver.session({
            database: this.config.database,
            defaultAccessMode: neo4j.session.READ,
            bookmarkManager: this.bookmarks,
          });
          try {
            const res: QueryResult<T> = await untraced(() => session.run<T>(query, params));
            return res.records.map((r) => r.toObject());
          } catch (err) {
            if (!neo4j.isRetryableError(err as Error) || Date.now() + delay > deadline) throw err;
          } finally {
            await session.close();
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      },
      this.queryName(query),
    );
  }

  /** Runs one write query (parameters only) in a managed transaction, retried on transient failures. */
  async write<T extends RecordShape = RecordShape>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    return this.timed(
      'write',
      () =>
        this.session('WRITE').executeWrite(async (tx) => (await untraced(() => tx.run<T>(query, params))).records.map((r) => r.toObject())),
      this.queryName(query),
    );
  }

  /**
   * The `query` label of a query text: the function that sends it, read from the call stack the first
   * time the text is sent and remembered (query texts are constants of their functions). A stack is
   * costly where source maps are on, and a trace sends several queries.
   */
  private queryName(query: string): string {
    if (!this.histogram) return '';
    let name = this.queryNames.get(query);
    if (name === undefined) {
      name = callerName();
      if (this.queryNames.size < 10_000) this.queryNames.set(query, name);
    }
    return name;
  }

  /** Eiffel events waiting to be republished on the central Eiffel bus (see WRITE_RAW), oldest write first. */
  async outbox(limit: number): Promise<Array<{ id: string; key: string; raw: string }>> {
    const res = await this.driver.executeQuery(
      `MATCH (n:Event) WHERE n.outbox IS NOT NULL RETURN n.id AS id, n.outbox AS key, n.raw AS raw ORDER BY n.ingestedAt LIMIT $limit`,
      { limit: neo4j.int(limit) },
      { database: this.config.database, routing: neo4j.routing.READ },
    );
    return res.records.map((r) => ({ id: r.get('id') as string, key: r.get('key') as string, raw: r.get('raw') as string }));
  }

  /** Marks events as published on the central Eiffel bus (after the broker confirmed them). */
  async clearOutbox(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.timed('write', () =>
      this.session('WRITE').executeWrite((tx) => tx.run('UNWIND $ids AS id MATCH (n:Event {id: id}) REMOVE n.outbox', { ids })),
    );
  }

  /** Placeholders still waiting for their event (the correlator's gauge). */
  async placeholders(): Promise<number> {
    const [row] = await this.read<{ n: number }>('MATCH (p:Placeholder) RETURN count(p) AS n');
    return row?.n ?? 0;
  }

  async ping(): Promise<void> {
    await this.driver.executeQuery('RETURN 1', {}, { database: this.config.database, bookmarkManager: this.bookmarks });
  }

  async onModuleDestroy(): Promise<void> {
    await this.driver.close();
  }

  private session(mode: 'READ' | 'WRITE') {
    const s = this.driver.session({ database: this.config.database, defaultAccessMode: mode, bookmarkManager: this.bookmarks });
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

  private async timed<T>(operation: string, fn: () => Promise<T>, query = this.histogram ? callerName() : ''): Promise<T> {
    const end = this.histogram?.startTimer({ operation, query });
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

/**
 * The function that called into the repository (`EntityReads.commitsBySha`): the `query` label of the
 * duration histogram, a bounded set (the functions that send queries, listed in libs/graph/queries.cypher).
 */
function callerName(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 6;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  // Frames: Error, callerName, queryName or timed, read/write, then the caller.
  for (const line of stack.split('\n').slice(4)) {
    const m = /^\s*at (?:async )?([\w$.]+) /.exec(line);
    const name = m?.[1]?.replace(/^Object\./, '');
    if (!name || /^(GraphRepository|Array|Promise|process|Generator)\./.test(name)) continue;
    return name;
  }
  return 'other';
}

/** What one statement of a batch cost on the server. */
export interface StatementProfile {
  /** The statement's first clause after UNWIND, to tell them apart (`MERGE (n:Event …`). */
  readonly statement: string;
  readonly rows: number;
  readonly dbHits: number;
  readonly pageCacheMisses: number;
  /** Server time until the result was available and consumed, ms. */
  readonly ms: number;
  /** The operators with the most db hits, `Operator: hits`. */
  readonly top: string[];
}

interface PlanNode {
  readonly operatorType: string;
  readonly dbHits: number;
  readonly rows: number;
  readonly pageCacheMisses?: number;
  readonly children: readonly PlanNode[];
}

function statementProfile(query: string, res: QueryResult): StatementProfile {
  const ops: PlanNode[] = [];
  const visit = (n: PlanNode): void => {
    ops.push(n);
    n.children.forEach(visit);
  };
  const root = res.summary.profile as unknown as PlanNode | false;
  if (root) visit(root);
  const lines = query
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const statement = (lines.find((l) => !/^(UNWIND|WITH|CALL \(\) \{)/.test(l)) ?? lines[0] ?? '').slice(0, 70);
  const num = (x: unknown): number => (typeof x === 'number' ? x : Number((x as { toNumber?: () => number })?.toNumber?.() ?? 0));
  return {
    statement,
    rows: root ? root.rows : 0,
    dbHits: ops.reduce((a, o) => a + o.dbHits, 0),
    pageCacheMisses: ops.reduce((a, o) => a + (o.pageCacheMisses ?? 0), 0),
    ms: num(res.summary.resultAvailableAfter) + num(res.summary.resultConsumedAfter),
    top: [...ops]
      .sort((a, b) => b.dbHits - a.dbHits)
      .slice(0, 3)
      .map((o) => `${o.operatorType.replace(/@.*$/, '')}: ${o.dbHits}`),
  };
}

/** How a batch's statements are sent: `tx.run`, or with PROFILE to see where a batch's time goes. */
type Run = (query: string, params: Record<string, unknown>) => PromiseLike<QueryResult>;

async function writeBatch(
  tx: ManagedTransaction,
  events: readonly StoredEvent[],
  run: Run = (q, p) => untraced(() => tx.run(q, p)),
): Promise<WriteResult> {
  const all = toBatchRows(events);
  const first: Array<PromiseLike<QueryResult>> = [run(WRITE_EVENTS, { events: all.events })];
  if (all.raws.length) first.push(run(WRITE_RAW, { rows: all.raws }));
  const [res] = await Promise.all(first);
  let created = 0;
  let duplicates = all.duplicatesInBatch;
  const conflicts: string[] = [];
  const fresh: string[] = [];
  const same = new Set<string>();
  for (const r of res!.records) {
    if (r.get('fresh')) {
      created++;
      fresh.push(r.get('id') as string);
    } else {
      duplicates++;
      if (r.get('conflict')) conflicts.push(r.get('id') as string);
      else same.add(r.get('id') as string);
    }
  }
  // An event already in the graph with the same content (a redelivery, a replay) was written whole, with
  // its entities, links and relations, in the transaction that first wrote it: the same content says the
  // same things (the hash covers them), so only new and conflicting events are written on from here.
  const rows = same.size === 0 ? all : toBatchRows(events.filter((e) => !same.has(e.id)));
  if (rows.events.length === 0) return { created, duplicates, conflicts };
  // Statements that do not depend on each other's results are sent together (the driver pipelines them on
  // the transaction's connection and the server runs them in order), so Neo4j never waits for a round trip.
  const entities: Array<PromiseLike<QueryResult>> = [];
  if (rows.sites.length) entities.push(run('UNWIND $sites AS s MERGE (:Site {key: s})', { sites: rows.sites }));
  for (const [label, list] of rows.entities) {
    entities.push(
      run(
        `UNWIND $rows AS r
         MERGE (x:${cypherIdent(label)} {key: r.key}) SET x += r.props
         SET x.aliases = coalesce(x.aliases, []) + [a IN r.aliases WHERE NOT a IN coalesce(x.aliases, [])]
         WITH x, r UNWIND r.about AS ab
         MATCH (e:Event {id: ab.event})
         MERGE (e)-[:ABOUT {role: ab.role}]->(x)`,
        { rows: list },
      ),
    );
  }
  await Promise.all(entities);
  for (const [label, list] of rows.aliased) await writeAliased(tx, label, list, run);
  const last: Array<PromiseLike<QueryResult>> = [];
  // One statement per link type, with the type in the text: a MERGE on a dynamic type (`$(l.type)`) is
  // planned as a scan of every relationship in the graph when the plan is made on a small graph.
  for (const [type, list] of groupBy(rows.links, (l) => l.type as string)) {
    last.push(
      run(
        `UNWIND $rows AS l
         MATCH (a:Event {id: l.from})
         MERGE (b:Event {id: l.to}) ON CREATE SET b:Placeholder
         MERGE (a)-[r:${cypherIdent(type)}]->(b)
         ON CREATE SET r.illegal = l.illegal`,
        { rows: list },
      ),
    );
  }
  for (const [k, list] of rows.relations) {
    const [from, type, to] = k.split('|') as [string, string, string];
    // Both ends were written above; an entity known by several keys is found through its alias node.
    // WITH between the ends: Cypher needs it between a MERGE and a following MATCH.
    const end = (v: 'a' | 'b', label: string, field: 'from' | 'to') =>
      ALIASED_LABELS.has(label)
        ? `MATCH (:Alias {id: '${label}|' + r.${field}})-[:ALIAS_OF]->(${v})`
        : `MERGE (${v}:${cypherIdent(label)} {key: r.${field}})`;
    cypherIdent(from);
    cypherIdent(to);
    last.push(
      run(`UNWIND $rows AS r ${end('a', from, 'from')} WITH a, r ${end('b', to, 'to')} MERGE (a)-[:${cypherIdent(type)}]->(b)`, {
        rows: list,
      }),
    );
  }
  // The journeys these events touch are brought up to date after the commit (journeys.ts); the mark
  // is written in this transaction, so no event is left out however the correlator stops.
  if (fresh.length) last.push(run(MARK_JOURNEYS_PENDING, { ids: fresh }));
  await Promise.all(last);
  return { created, duplicates, conflicts };
}

interface FoundNode {
  readonly id: string;
  readonly key: string;
  readonly aliases: readonly string[] | null;
}

/**
 * Entities known by several keys (see entity-keys.ts). Every key of such an entity has an alias node,
 * merged first, which serialises concurrent writers of the same key. One statement handles the common
 * cases: the keys lead to no node yet (one is created) or to one node (it is updated, taking the better
 * key when this row brings one). Rows whose keys lead to two or more nodes come back and are merged.
 */
async function writeAliased(tx: ManagedTransaction, label: string, list: readonly AliasedRow[], run: Run): Promise<void> {
  const L = cypherIdent(label);
  const rows = list.map((r) => ({ ...r, ranks: r.keys.map((k) => keyRank(label, k)) }));
  const res = await run(
    `UNWIND range(0, size($rows) - 1) AS i
     WITH i, $rows[i] AS r
     CALL (r) {
       UNWIND r.ids AS id
       MERGE (al:Alias {id: id})
       WITH al
       OPTIONAL MATCH (al)-[:ALIAS_OF]->(x)
       RETURN collect(DISTINCT x) AS xs, collect(al) AS als
     }
     WITH i, r, xs, als WHERE size(xs) <= 1
     CALL (r, xs) {
       WITH r, xs WHERE size(xs) = 0
       MERGE (n:${L} {key: r.keys[0]}) ON CREATE SET n.keyRank = r.ranks[0]
       RETURN n
       UNION
       WITH xs WHERE size(xs) = 1
       RETURN xs[0] AS n
     }
     WITH i, r, als, n, n.key AS old,
          (r.ranks[0] < coalesce(n.keyRank, 99) OR (r.ranks[0] = coalesce(n.keyRank, 99) AND r.keys[0] < n.key)) AS better
     SET n += r.props,
         n.key = CASE WHEN better THEN r.keys[0] ELSE old END,
         n.keyRank = CASE WHEN better THEN r.ranks[0] ELSE n.keyRank END
     WITH i, r, als, n, reduce(acc = [], k IN coalesce(n.aliases, []) + [old] + r.keys | CASE WHEN k IN acc THEN acc ELSE acc + k END) AS known
     SET n.aliases = [k IN known WHERE k <> n.key]
     FOREACH (al IN als | MERGE (al)-[:ALIAS_OF]->(n))
     WITH i, r, n
     CALL (r, n) {
       UNWIND r.about AS ab
       MATCH (e:Event {id: ab.event})
       MERGE (e)-[:ABOUT {role: ab.role}]->(n)
     }
     RETURN collect(i) AS done`,
    { rows },
  );
  const done = new Set((res.records[0]?.get('done') as number[] | undefined) ?? []);
  for (let i = 0; i < rows.length; i++) if (!done.has(i)) await mergeAndWrite(tx, label, rows[i]!);
}

/** A row whose keys lead to two or more nodes: they become one (the best-keyed survives), then the row is written to it. */
async function mergeAndWrite(tx: ManagedTransaction, label: string, row: AliasedRow): Promise<void> {
  const found = await tx.run(
    `UNWIND $ids AS id
     MATCH (:Alias {id: id})-[:ALIAS_OF]->(x)
     WITH DISTINCT x
     RETURN elementId(x) AS id, x.key AS key, x.aliases AS aliases`,
    { ids: row.ids },
  );
  const nodes = uniqueNodes(found.records.map((r) => r.toObject() as FoundNode));
  const keys = rankKeys(label, [...row.keys, ...nodes.flatMap((n) => [n.key, ...(n.aliases ?? [])])]);
  const ranked = rankKeys(
    label,
    nodes.map((n) => n.key),
  );
  const survivor = nodes.find((n) => n.key === ranked[0])!;
  await mergeNodes(
    tx,
    survivor.id,
    nodes.filter((n) => n !== survivor).map((n) => n.id),
  );
  const [key, ...aliases] = keys;
  await tx.run(
    `MATCH (x) WHERE elementId(x) = $node
     SET x += $props, x.key = $key, x.keyRank = $rank, x.aliases = $aliases
     WITH x
     CALL (x) {
       UNWIND $ids AS id
       MERGE (al:Alias {id: id})
       MERGE (al)-[:ALIAS_OF]->(x)
     }
     WITH x
     UNWIND $about AS ab
     MATCH (e:Event {id: ab.event})
     MERGE (e)-[:ABOUT {role: ab.role}]->(x)`,
    {
      node: survivor.id,
      props: row.props,
      key,
      rank: keyRank(label, key!),
      aliases,
      ids: keys.map((k) => aliasId(label, k)),
      about: row.about,
    },
  );
}

function uniqueNodes(nodes: readonly FoundNode[]): FoundNode[] {
  const seen = new Map<string, FoundNode>();
  for (const n of nodes) if (n.id !== null && !seen.has(n.id)) seen.set(n.id, n);
  return [...seen.values()];
}

/** Moves every relationship of `others` onto `survivor` (same types and roles), keeps the survivor's properties where both have one, and deletes the others. */
async function mergeNodes(tx: ManagedTransaction, survivor: string, others: readonly string[]): Promise<void> {
  await tx.run(
    `MATCH (s) WHERE elementId(s) = $survivor
     UNWIND $others AS oid
     MATCH (o) WHERE elementId(o) = oid
     CALL (s, o) {
       MATCH (e)-[r:ABOUT]->(o)
       MERGE (e)-[:ABOUT {role: r.role}]->(s)
     }
     CALL (s, o) {
       MATCH (a)-[r]->(o) WHERE type(r) <> 'ABOUT' AND a <> s AND a <> o
       MERGE (a)-[:$(type(r))]->(s)
     }
     CALL (s, o) {
       MATCH (o)-[r]->(b) WHERE b <> s AND b <> o
       MERGE (s)-[:$(type(r))]->(b)
     }
     REMOVE o.key, o.aliases
     WITH s, o, properties(o) AS theirs, properties(s) AS ours
     SET s += theirs
     SET s += ours
     DETACH DELETE o`,
    { survivor, others },
  );
}

/** Turns driver errors into messages naming the setting to change. */
function explainNeo4jError(err: unknown, config: Pick<Neo4jConfig, 'url' | 'user'>): Error {
  const e = err as { code?: string; message?: string };
  if (e.code === 'Neo.ClientError.Security.Unauthorized' || /authentication failure|unauthorized/i.test(e.message ?? '')) {
    return new StartupError(`Neo4j at ${config.url} rejected the credentials of user "${config.user}"`, 'neo4j.password');
  }
  if (
    e.code === 'ServiceUnavailable' ||
    e.code === 'SessionExpired' ||
    /ECONNREFUSED|Could not perform discovery|Failed to connect/i.test(e.message ?? '')
  ) {
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
