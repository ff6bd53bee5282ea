import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';

/** A driver whose sessions answer with the given outcomes in turn, counting opens and closes. */
function fakeDriver(outcomes: Array<Error | Array<Record<string, unknown>>>) {
  const seen = { runs: 0, closed: 0, modes: [] as string[] };
  return {
    seen,
    session: (opts: { defaultAccessMode: string }) => {
      seen.modes.push(opts.defaultAccessMode);
      return {
        run: async () => {
          const next = outcomes[seen.runs++];
          if (next instanceof Error) throw next;
          return { records: (next ?? []).map((o) => ({ toObject: () => o })) };
        },
        close: async () => void seen.closed++,
      };
    },
    close: async () => undefined,
  };
}

function repositoryWith(driver: ReturnType<typeof fakeDriver>): GraphRepository {
  const repo = new GraphRepository({ url: 'bolt://127.0.0.1:1', user: 'neo4j', password: 'unused-password', database: 'neo4j' });
  void (repo as unknown as { driver: { close(): Promise<void> } }).driver.close();
  (repo as unknown as { driver: unknown }).driver = driver;
  return repo;
}

describe('GraphRepository.read', () => {
  it('reads in an auto-commit read session and closes it', async () => {
    const driver = fakeDriver([[{ n: 1 }, { n: 2 }]]);
    const rows = await repositoryWith(driver).read<{ n: number }>('RETURN 1 AS n');
    assert.deepEqual(rows, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(driver.seen, { runs: 1, closed: 1, modes: [neo4j.session.READ] });
  });

  it('retries while Neo4j is unavailable, then answers', async () => {
    const gone = new neo4j.Neo4jError('connection refused', neo4j.error.SERVICE_UNAVAILABLE, '08000', 'connection exception');
    const driver = fakeDriver([gone, gone, [{ n: 3 }]]);
    const rows = await repositoryWith(driver).read<{ n: number }>('RETURN 3 AS n');
    assert.deepEqual(rows, [{ n: 3 }]);
    assert.equal(driver.seen.runs, 3);
    assert.equal(driver.seen.closed, 3, 'every attempt closes its session');
  });

  it('does not retry an error that would fail again (a bad query)', async () => {
    const bad = new neo4j.Neo4jError('Invalid input', 'Neo.ClientError.Statement.SyntaxError', '42001', 'invalid syntax');
    const driver = fakeDriver([bad, [{ n: 1 }]]);
    await assert.rejects(repositoryWith(driver).read('RETURN'), /Invalid input/);
    assert.equal(driver.seen.runs, 1);
    assert.equal(driver.seen.closed, 1);
  });
});
