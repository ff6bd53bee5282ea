import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError, loadConfigFile } from '@not/config';
import { JsonLogger, runMain } from '@not/observability';
import { relayConfigSchema } from './relay.config.js';
import { RelayModule } from './relay.module.js';

/**
 * The relay's process: configuration, then Nest's lifecycle. Start-up work lives in hooks:
 * `onModuleInit` for what must hold first (RelayStartup: the brokers answer, readiness checks),
 * `onApplicationBootstrap` for the first reconcile pass and the loop after it; then HTTP.
 */
async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'RELAY_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set RELAY_CONFIG']);
  const config = loadConfigFile(file, relayConfigSchema);
  const logger = new JsonLogger('relay', config.logLevel);

  // No body parser: webhook bodies are read raw, so signatures are checked on the exact bytes and published as they came.
  // On SIGTERM/SIGINT: new requests get 503 (Connection: close) while in-flight webhook
  // publishes finish (see WebhookPublisher), then the process exits 0.
  const app = await NestFactory.create(RelayModule.forConfig(config, file), {
    logger,
    abortOnError: false,
    bodyParser: false,
    return503OnClosing: true,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(config.http.port, config.http.host);
  logger.log(`relay for site ${config.site} on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

void runMain('relay', bootstrap);
