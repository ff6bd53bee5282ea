import { readFileSync } from 'node:fs';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigError, StartupError } from '@not/config';
import { BrokerAdmin, describeConnectError, maskUrl } from '@not/messaging';
import { HealthRegistry } from '@not/observability';
import amqp from 'amqplib';
import { centralVhost } from './link-definitions.js';
import { RelaySettings } from './relay.config.js';

/**
 * What must hold before the relay reconciles or takes a webhook, run by Nest's init: every site
 * broker (and central's management API, when configured) answers, else the start fails naming the
 * setting to change; then the readiness checks are registered.
 */
@Injectable()
export class RelayStartup implements OnModuleInit {
  constructor(
    private readonly settings: RelaySettings,
    private readonly health: HealthRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const { config, file } = this.settings;
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

    for (const broker of config.brokers) {
      this.health.register(`broker:${broker.name}`, async () => void (await new BrokerAdmin(broker.management, 2000).overview()));
    }
    // Ready only while the central broker answers too (the shovels need it).
    const tls = config.central.tls
      ? { ca: [readCa(file, config.central.tls.caFile)], servername: config.central.tls.serverName }
      : undefined;
    this.health.register('central', () => checkCentral(config.central.urls, tls));
    // Federation links live on the central broker: ready only while its management API (and federation plugin) answers.
    if (central) {
      const admin = new BrokerAdmin(central, 2000);
      const vhost = centralVhost(config);
      this.health.register('central-management', async () => void (await admin.federationLinks(vhost)));
    }
  }
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
