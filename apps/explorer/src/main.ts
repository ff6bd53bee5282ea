import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError } from '@not/config';
import { JsonLogger, runMain } from '@not/observability';
import { loadExplorerConfig } from './explorer.config.js';
import { ExplorerModule } from './explorer.module.js';

/**
 * The explorer's process: configuration, then Nest's lifecycle. Start-up work lives in hooks:
 * `onModuleInit` for what must hold first (ExplorerStartup: Neo4j), `onApplicationBootstrap` for the
 * trends and delivery-figure rounds; then HTTP.
 */
async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'EXPLORER_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set EXPLORER_CONFIG']);
  const config = loadExplorerConfig(file);
  const logger = new JsonLogger('explorer', config.logLevel);
  const app = await NestFactory.create(ExplorerModule.forConfig(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  logger.log(`explorer on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

void runMain('explorer', bootstrap);
