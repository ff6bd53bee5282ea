import { ConfigError } from '@not/config';
import { DEMO_PIPELINE, loadMesh, Mesh, publishToSite, splitEvents, type MeshStatus } from '@not/mesh';
import { readFileSync } from 'node:fs';
import { checkKnown, parseArgs, requireOption, UsageError, type ParsedArgs } from './args.js';
import { replayCommand } from './replay.command.js';
import { JOURNEYS_OPTIONS, rebuildJourneysCommand } from './journeys.command.js';
import { EXPLORER_USAGE, explorerCommand } from './explorer.command.js';
import { ExplorerError } from './explorer.client.js';
import { SUBSCRIPTIONS_USAGE, subscribeCommand, subscriptionsCommand } from './subscriptions.command.js';
import { INSIGHTS_USAGE, insightsCommand } from './insights.command.js';

const USAGE = `traces — Network of Traces command line

  traces mesh up [--config FILE] [--no-apps]     start the local mesh (idempotent)
  traces mesh status [--config FILE] [--json]    show every endpoint and whether it is up
  traces mesh down [--config FILE] [--purge]     stop what "up" started; --purge also deletes its data
  traces publish --site ID --source NAME [--config FILE] FILE|-
                                                 publish a JSON array or NDJSON of events to a site
  traces demo [--config FILE]                    publish the demo pipeline across the first two sites
  traces replay --from TIME [--to TIME] [--site ID[,ID]] [--url AMQP_URL | --config FILE]
                                                 re-read the central archive into the graph (idempotent)
  traces rebuild-journeys [--config FILE | --neo4j URL [--user U]] [--walk-steps N] [--events N]
                                                 recompute the journey read model from the graph
                                                 (password of --neo4j from NEO4J_PASSWORD); fires no
                                                 subscription: what it finds again was news before
${EXPLORER_USAGE}
${SUBSCRIPTIONS_USAGE}
${INSIGHTS_USAGE}

The mesh config defaults to deploy/local/mesh.yaml.`;

const progress = (m: string): void => void process.stderr.write(`• ${m}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'mesh':
      return meshCommand(rest);
    case 'publish':
      return publishCommand(parseArgs(rest, ['site', 'source', 'config']));
    case 'demo':
      return demoCommand(parseArgs(rest, ['config']));
    case 'replay': {
      const args = parseArgs(rest, ['from', 'to', 'site', 'config', 'url']);
      return replayCommand(args, () => meshOf(args).status(), progress);
    }
    case 'rebuild-journeys': {
      const args = parseArgs(rest, [...JOURNEYS_OPTIONS]);
      return rebuildJourneysCommand(args, () => meshOf(args).status(), progress);
    }
    // The explorer's commands (apps/cli/src/explorer.command.ts).
    case 'trace':
    case 'release':
    case 'lead-time':
      return explorerCommand(command, rest);
    case 'subscribe':
      return subscribeCommand(rest);
    case 'subscriptions':
      return subscriptionsCommand(rest);
    case 'insights':
      return insightsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function meshOf(args: ParsedArgs): Mesh {
  const file = args.options.get('config');
  return new Mesh(loadMesh(typeof file === 'string' ? file : undefined), progress);
}

async function meshCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, ['config']);
  switch (sub) {
    case 'up': {
      checkKnown(args, ['config', 'no-apps']);
      // EXPLORER_TOKEN, when set, is the explorer's token in place of the one the mesh generated.
      const status = await meshOf(args).up({ apps: !args.options.has('no-apps'), explorerToken: process.env.EXPLORER_TOKEN || undefined });
      printStatus(status);
      return allUp(status, !args.options.has('no-apps')) ? 0 : 1;
    }
    case 'status': {
      checkKnown(args, ['config', 'json']);
      const status = await meshOf(args).status();
      if (args.options.has('json')) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      else printStatus(status);
      return 0;
    }
    case 'down':
      checkKnown(args, ['config', 'purge']);
      await meshOf(args).down({ purge: args.options.has('purge') });
      progress('mesh stopped');
      return 0;
    default:
      throw new UsageError(`"traces mesh" takes up, status or down${sub ? `, not "${sub}"` : ''}`);
  }
}

async function publishCommand(args: ParsedArgs): Promise<number> {
  checkKnown(args, ['site', 'source', 'config']);
  const site = requireOption(args, 'site');
  const source = requireOption(args, 'source');
  const file = args.positionals[0];
  if (!file) throw new UsageError('give a FILE to publish, or - for standard input');
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const bodies = splitEvents(text, file === '-' ? 'standard input' : file);
  const status = await meshOf(args).status();
  const n = await publishToSite(status, site, source, bodies);
  progress(`published ${n} event(s) to site ${site}, source ${source} (confirmed by the broker)`);
  return 0;
}

async function demoCommand(args: ParsedArgs): Promise<number> {
  checkKnown(args, ['config']);
  const status = await meshOf(args).status();
  const [first, second = first] = status.sites;
  if (!first) throw new UsageError('the mesh has no sites');
  for (const [role, site] of [
    ['first', first],
    ['second', second!],
  ] as const) {
    const source = site.sources.find((s) => s.format === 'eiffel');
    if (!source) throw new UsageError(`site ${site.id} has no eiffel source for the demo`);
    const bodies = DEMO_PIPELINE.filter((d) => d.site === role).map((d) => Buffer.from(JSON.stringify(d.event)));
    const n = await publishToSite(status, site.id, source.name, bodies);
    progress(`demo: published ${n} event(s) at ${site.id}`);
  }
  return 0;
}

function allUp(s: MeshStatus, withApps: boolean): boolean {
  const infra = s.central.nodes.every((n) => n.up) && s.neo4j.up && s.prometheus.up && s.sites.every((x) => x.up);
  return infra && (!withApps || (s.correlator.up && s.explorer.up && s.sites.every((x) => x.relay.up)));
}

function printStatus(s: MeshStatus): void {
  const mark = (up: boolean): string => (up ? 'up  ' : 'DOWN');
  const lines = [
    ...s.central.nodes.map((n) => `${mark(n.up)}  ${n.name.padEnd(7)} RabbitMQ   ${n.management}  (amqp ${maskPw(n.amqp)})`),
    ...s.sites.flatMap((site) => [
      `${mark(site.up)}  ${site.id} RabbitMQ   ${site.management}  (amqp ${maskPw(site.amqp)})`,
      `${mark(site.relay.up)}  ${site.id} relay      ${site.relay.url}`,
    ]),
    `${mark(s.neo4j.up)}  Neo4j              ${s.neo4j.bolt}  (user ${s.neo4j.user})`,
    `${mark(s.prometheus.up)}  Prometheus         ${s.prometheus.url}`,
    `${mark(s.correlator.up)}  correlator         ${s.correlator.url}/metrics`,
    `${mark(s.explorer.up)}  explorer           ${s.explorer.url}`,
    `secrets and endpoints: traces mesh status --json   (state in ${s.stateDir})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function maskPw(url: string): string {
  return url.replace(/:[^:@/]+@/, ':***@');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`traces: ${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (err instanceof ExplorerError) {
      process.stderr.write(`traces: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`traces: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`traces: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
