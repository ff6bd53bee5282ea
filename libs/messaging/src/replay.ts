import amqp from 'amqplib';
import { routingKeySegments } from '@not/events';
import { describeConnectError, maskUrl } from './amqp-url.js';
import { CENTRAL } from './central-topology.js';
import { REPLAY_ROUTING_KEY_HEADER } from './rascal.server.js';

export interface ReplayOptions {
  readonly url: string;
  readonly from: Date;
  readonly to?: Date;
  /** Only messages of these sites (the routing key's second segment). */
  readonly sites?: readonly string[];
  /** The archive is read until no message came for this long (the end of the stream). */
  readonly idleMs?: number;
  readonly onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayProgress {
  readonly read: number;
  readonly replayed: number;
  readonly skipped: number;
}

/**
 * Re-reads the central archive stream from a point in time and sends each
 * message again to the ingest queue, keeping its original routing key in a
 * header. The graph writes are idempotent, so a replay only adds what was
 * missing (for instance after a parser fix).
 */
export async function replayArchive(o: ReplayOptions): Promise<ReplayProgress> {
  let conn: amqp.ChannelModel;
  try {
    conn = await amqp.connect(o.url);
  } catch (err) {
    throw new Error(`cannot reach the central broker at ${maskUrl(o.url)}: ${describeConnectError(err)}`, { cause: err });
  }
  const progress = { read: 0, replayed: 0, skipped: 0 };
  try {
    const out = await conn.createConfirmChannel();
    const ch = await conn.createChannel();
    await ch.prefetch(1000);
    const toMs = o.to?.getTime() ?? Number.POSITIVE_INFINITY;
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        if (err) reject(err);
        else resolve();
      };
      const arm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(), o.idleMs ?? 3000);
      };
      arm();
      ch.on('error', (err: Error) => finish(err));
      void ch
        .consume(
          CENTRAL.archiveStream,
          (m) => {
            if (!m || done) return;
            arm();
            progress.read++;
            const headers = m.properties.headers ?? {};
            const whenSec = Number(headers['x-shovelled-timestamp'] ?? m.properties.timestamp ?? 0);
            const when = whenSec * 1000;
            ch.ack(m);
            if (when > toMs) {
              finish();
              return;
            }
            const site = routingKeySegments(m.fields.routingKey).site ?? '';
            if ((o.sites && !o.sites.includes(site)) || (when > 0 && when < o.from.getTime())) {
              progress.skipped++;
              return;
            }
            out.sendToQueue(CENTRAL.ingestQueue, m.content, {
              ...m.properties,
              persistent: true,
              headers: { ...headers, [REPLAY_ROUTING_KEY_HEADER]: m.fields.routingKey },
            });
            progress.replayed++;
            if (progress.read % 1000 === 0) o.onProgress?.({ ...progress });
          },
          // The stream is read from the first chunk at or after `from` (timestamps are in seconds).
          { noAck: false, arguments: { 'x-stream-offset': { '!': 'timestamp', value: Math.floor(o.from.getTime() / 1000) } } },
        )
        .catch((err: Error) => finish(err));
    });
    await out.waitForConfirms();
    o.onProgress?.({ ...progress });
    return progress;
  } finally {
    await conn.close().catch(() => undefined);
  }
}
