import { Injectable, type OnModuleInit } from '@nestjs/common';
import { GraphRepository } from '@not/graph';

/**
 * What must hold before the explorer answers or starts its rounds, run by Nest's init: Neo4j
 * answers and takes the credentials, else the start fails naming the setting to change.
 */
@Injectable()
export class ExplorerStartup implements OnModuleInit {
  constructor(private readonly graph: GraphRepository) {}

  async onModuleInit(): Promise<void> {
    await this.graph.verify();
  }
}
