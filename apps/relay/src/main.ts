import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError, loadConfigFile, StartupError } from '@not/config';
import { BrokerAdmin, describeConnectError, maskUrl } from '@not/messaging';
import amqp from 'amqplib';
import { readFileSync } from 'node:fs';
import { HealthRegistry, JsonLogger, runMain } from '@not/observability';
import { relayConfigSchema } from './relay.config.js';
import { RelayModule } from './relay.module.js';
import { ReconcileService } from './reconcile.service.js';
import { centralVhost } from './link-definitions.js';

async function bootstrap(): Promise<void> {
  const file = configPath(process.argv, 'RELAY_CONFIG');
  if (!file) throw new ConfigError('command line', ['no configuration file: pass --config <file> or set RELAY_CONFIG']);
  const config = loadConfigFile(file, relayConfigSchema);
  const logger = new JsonLogger('relay', config.logLevel);

  // Every site broker must answer at start: a wrong URL or password is a config problem to report now.
  for (const [i, broker] of config.brokers.entries()) {
    await new BrokerAdmin(broker.management).overview().catch((err: Error) => {
      throw new StartupError(`site broker "${broker.name}": ${err.message}`, `brokers[${i}].management`);
    });
  }

  const central = config.central.management;
  if (central) {
    await new BrokerAdmin(central).overview().catch((err: Error) => {
      throw new StartupError(`central broker: ${err.message}`, 'central.management');
    });
  }

  // No body parser: webhook bodies are read raw, so signatures are checked on the exact bytes and published as they came.
  // On SIGTERM/SIGINT: new requests get 503 (Connection: close) while in-flight webhook
  // publishes finish (see WebhookPublisher), then the process exits 0.
  const app = await NestFactory.create(RelayModule.forConfig(config), {
    logger,
    abortOnError: false,
    bodyParser: false,
    return503OnClosing: true,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const health = app.get(HealthRegistry);
  for (const broker of config.brokers) {
    health.register(`broker:${broker.name}`, async () => void (await new BrokerAdmin(broker.management, 2000).overview()));
  }
  // Ready only while the central broker answers too (the shovels need it).
  const tls = config.central.tls ? { ca: [readCa(file, config.central.tls.caFile)], servername: config.central.tls.serverName } : undefined;
  health.register('central', () => checkCentral(config.central.urls, tls));
  // Federation links live on the central broker: ready only while its management API (and federation plugin) answers.
  if (central) {
    const admin = new BrokerAdmin(central, 2000);
    const vhost = centralVhost(config);
    health.register('central-management', async () => void (await admin.federationLinks(vhost)));
  }
  const reconciler = app.get(ReconcileService);
  await reconciler.reconcile();
  reconciler.start();
  await app.listen(config.http.port, config.http.host);
  logger.log(`relay for site ${config.site} on ${config.http.host}:${config.http.port}`, 'Bootstrap');
}

function readCa(configFile: string, caFile: string): Buffer {
  try {
    return readFileSync(caFile);
  } catch (err) {
    throw new ConfigError(configFile, [
      `central.tls.caFile: cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
}

/** Connects to the first central URL that answers; fails with every URL's reason. */
async function checkCentral(urls: readonly string[], tls?: { ca: Buffer[]; servername?: string }): Promise<void> {
  const reasons: string[] = [];
  for (const url of urls) {
    try {
      const conn = await amqp.connect(url, { timeout: 2000, ...(url.startsWith('amqps://') ? tls : {}) });
      await conn.close();
      return;
    } catch (err) {
      reasons.push(`${maskUrl(url)}: ${describeConnectError(err)}`);
    }
  }
  throw new Error(`central broker unreachable (${reasons.join('; ')})`);
}

void runMain('relay', bootstrap);
