import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError, loadConfigFile, StartupError } from '@not/config';
import { GraphRepository } from '@not/graph';
import { CENTRAL, RascalServer } from '@not/messaging';
import { JsonLogger, runMain } from '@not/observability';
import { correlatorConfigSchema } from './correlator.config.js';
import { CorrelatorModule } from './correlator.module.js';
import { MonitorService } from './monitor.service.js';

async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'CORRELATOR_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set CORRELATOR_CONFIG']);
  const config = loadConfigFile(file, correlatorConfigSchema);
  const logger = new JsonLogger('correlator', config.logLevel);

  const app = await NestFactory.create(CorrelatorModule.forConfig(config), { logger, abortOnError: false });
  app.enableShutdownHooks();

  // Fail fast, with the setting to change, when Neo4j is unreachable or refuses the credentials.
  const graph = app.get(GraphRepository);
  await graph.verify();
  await graph.ensureSchema();

  const server = app.get(RascalServer);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices().catch((err: Error) => {
    throw new StartupError(err.message, 'amqp.url');
  });
  app.get(MonitorService).start();
  await app.listen(config.http.port, config.http.host);
  logger.log(`correlator consuming ${CENTRAL.ingestQueue}; HTTP on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

void runMain('correlator', bootstrap);
