import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { configPath, ConfigError, loadConfigFile, StartupError } from '@not/config';
import { parseMessage, realisticChanges } from '@not/events';
import { GraphRepository, type StoredEvent } from '@not/graph';
import { CENTRAL, RascalServer } from '@not/messaging';
import { JsonLogger, runMain } from '@not/observability';
import { correlatorConfigSchema } from './correlator.config.js';
import { CorrelatorModule } from './correlator.module.js';
import { MonitorService } from './monitor.service.js';

/** Synthetic pipeline events (a realistic multi-site stream), parsed as the correlator parses, in batches. */
function warmUpBatches(n: number, size: number): StoredEvent[][] {
  // A seed of its own per start: correlators starting together never wait on each other's locks.
  const seed = `warm-up-${randomUUID().slice(0, 8)}`;
  const events: StoredEvent[] = [];
  for (let c = 0; events.length < n; c += 20) {
    for (const e of realisticChanges({ seed }, c, 20)) {
      const raw = JSON.stringify(e.event);
      const r = parseMessage({ body: Buffer.from(raw), headers: {}, routingKey: `site.warm-up-${e.site}.ci.eiffel` });
      if (r.ok) events.push(...r.events.map((x) => ({ ...x, raw })));
    }
  }
  const batches: StoredEvent[][] = [];
  for (let i = 0; i < n; i += size) batches.push(events.slice(i, Math.min(i + size, n)));
  return batches;
}

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
  if (config.warmUpEvents > 0) {
    // A warm-up that fails (a lock wait, a busy server) only costs speed: consuming starts anyway.
    await graph.warmUp(warmUpBatches(config.warmUpEvents, config.batch.size)).then(
      (ms) =>
        logger.log(`write path warmed on ${config.warmUpEvents} synthetic events in ${ms} ms (rolled back, nothing kept)`, 'Bootstrap'),
      (err: unknown) =>
        logger.warn(`write path warm-up skipped: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'Bootstrap'),
    );
  }

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
