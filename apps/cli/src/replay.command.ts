import { replayArchive } from '@not/messaging';
import type { MeshStatus } from '@not/mesh';
import { checkKnown, requireOption, UsageError, type ParsedArgs } from './args.js';

function parseTime(value: string, option: string): Date {
  // Accept ISO-8601 and relative forms like 2h, 30m, 7d (that long ago).
  const rel = /^(\d+)([smhd])$/.exec(value);
  if (rel) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(rel[1]) * unit);
  }
  const t = Date.parse(value);
  if (!Number.isFinite(t))
    throw new UsageError(`--${option} "${value}" is not a time: use ISO-8601 (2026-11-02T09:00:00Z) or an age like 2h, 7d`);
  return new Date(t);
}

/** `traces replay --from <time> [--to <time>] [--site <id>]...`: re-reads the archive stream into the graph. */
export async function replayCommand(args: ParsedArgs, status: () => Promise<MeshStatus>, progress: (m: string) => void): Promise<number> {
  checkKnown(args, ['from', 'to', 'site', 'config', 'url']);
  const from = parseTime(requireOption(args, 'from'), 'from');
  const toArg = args.options.get('to');
  const to = typeof toArg === 'string' ? parseTime(toArg, 'to') : undefined;
  if (to && to < from) throw new UsageError('--to is before --from');
  const siteArg = args.options.get('site');
  const sites =
    typeof siteArg === 'string'
      ? siteArg
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const urlArg = args.options.get('url');
  const url = typeof urlArg === 'string' ? urlArg : (await status()).central.amqp;
  progress(
    `replaying the archive from ${from.toISOString()}${to ? ` to ${to.toISOString()}` : ''}${sites ? ` for ${sites.join(', ')}` : ''}`,
  );
  const result = await replayArchive({
    url,
    from,
    to,
    sites,
    onProgress: (p) => progress(`read ${p.read}, replayed ${p.replayed}, skipped ${p.skipped}`),
  });
  progress(`replay done: ${result.replayed} message(s) sent to the ingest queue again (${result.skipped} outside the filter)`);
  return 0;
}
