/**
 * Starts a driver call without the stack trace neo4j-driver captures for it. The driver formats the
 * caller's stack into every Result it creates, to put on an error the query may raise later; where
 * source maps are on (the apps run with --enable-source-maps) that formatting took 9 % of the
 * explorer's CPU under a trace load. An error of ours names its query (the `query` label of
 * GraphRepository) and carries Neo4j's message; the driver's copy of the caller's frames is not worth
 * that. The Result is created synchronously by `start`, so the limit is back before anything else runs.
 */
export function untraced<R>(start: () => R): R {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
