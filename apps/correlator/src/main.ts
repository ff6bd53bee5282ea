import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError, loadConfigFile, StartupError } from '@not/config';
import { CENTRAL, RascalServer } from '@not/messaging';
import { JsonLogger, runMain } from '@not/observability';
import { correlatorConfigSchema } from './correlator.config.js';
import { CorrelatorModule } from './correlator.module.js';

/**
 * The correlator's process: configuration, then Nest's lifecycle. Start-up work lives in hooks:
 * `onModuleInit` for what must hold before anything runs (CorrelatorStartup: the ingest queue, Neo4j, schema, warm-up),
 * `onApplicationBootstrap` for the loops (monitor, journeys, notifications, Eiffel bus). Consuming
 * starts after both, then HTTP.
 */
async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'CORRELATOR_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set CORRELATOR_CONFIG']);
  const config = loadConfigFile(file, correlatorConfigSchema);
  const logger = new JsonLogger('correlator', config.logLevel);

  const app = await NestFactory.create(CorrelatorModule.forConfig(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  await app.init();

  const server = app.get(RascalServer);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices().catch((err: Error) => {
    throw new StartupError(err.message, 'amqp.url');
  });
  await app.listen(config.http.port, config.http.host);
  logger.log(`correlator consuming ${CENTRAL.ingestQueue}; HTTP on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

void runMain('correlator', bootstrap);
