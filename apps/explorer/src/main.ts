import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError } from '@not/config';
import { GraphRepository } from '@not/graph';
import { JsonLogger, runMain } from '@not/observability';
import { loadExplorerConfig } from './explorer.config.js';
import { ExplorerModule } from './explorer.module.js';

async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'EXPLORER_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set EXPLORER_CONFIG']);
  const config = loadExplorerConfig(file);
  const logger = new JsonLogger('explorer', config.logLevel);
  const app = await NestFactory.create(ExplorerModule.forConfig(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  await app.get(GraphRepository).verify();
  await app.listen(config.http.port, config.http.host);
  logger.log(`explorer on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

void runMain('explorer', bootstrap);
