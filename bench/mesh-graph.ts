/** The graph store of a running mesh, for benchmarks and evaluations that read it beside the apps. */
import { GraphRepository, Journeys, WalkReads } from '@not/graph';
import type { MeshStatus } from '@not/mesh';

export function meshGraph(status: MeshStatus): GraphRepository {
  return new GraphRepository({ url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' });
}

/** The journey model over `graph`, with walk limits for reading it (not the explorer's). */
export function meshJourneys(graph: GraphRepository): Journeys {
  return new Journeys(graph, new WalkReads(graph), () => ({ events: 20_000, walkSteps: 40 }));
}

/** Waits, at most `ms`, until the journey step has taken in what was written before the call; false if it has not. */
export async function modelSettled(status: MeshStatus, ms: number): Promise<boolean> {
  const graph = meshGraph(status);
  try {
    return await meshJourneys(graph).settled(ms);
  } finally {
    await graph.onModuleDestroy();
  }
}
