import { checkKnown, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { explorerRequest } from './explorer.client.js';
import { explorerTarget } from './explorer.command.js';
import { table } from './explorer.format.js';

/** `traces subscribe` and `traces subscriptions`: the explorer's /api/v1/subscriptions. */
export const SUBSCRIPTIONS_USAGE = `  traces subscribe --name NAME CONDITION DELIVERY [--json]
      CONDITION: --stage STAGE [--site ID] [--outcome any|success|failure]   a change reaches a stage
                 --artifact PATTERN --stage STAGE [--site ID] [--outcome …]   an artifact (key pattern, * wildcard) does
                 --failure [--stages build,test,deployment] [--site ID]       a build, test or deployment fails
                 --stuck STAGE --after DURATION (30m, 4h, 2d)                 a change waits at its furthest stage
                 --event TYPE [--site ID] [--field PATH=VALUE[,PATH=VALUE]]   an event of a type, with fields
                 --insight TYPES|any [--segments S,…] [--metrics M,…] [--sites ID,…] [--areas AREA,…]
                                                   the trends find something (/api/v1/insights), once per episode:
                                                   TYPES breach,forecast,anomaly,trend,stuck; e.g. --insight forecast
                 --condition JSON                                             any condition, as the API takes it
        which changes: [--repository PREFIX] [--area AREA] [--commit SHA] [--work-item KEY]
      DELIVERY:  --webhook URL [--secret SECRET]   POST, signed (X-Traces-Signature-256); a secret is generated if none
                 --amqp [--routing-key KEY] [--jenkins-project JOB --jenkins-token TOKEN]
                                                   the notifications exchange (Jenkins RabbitMQ Build Trigger format)
  traces subscriptions [list | show ID | delete ID | firings ID [--limit N]] [--json]
                                                 your subscriptions (by your token's name) and their firings`;

const COMMON = ['url', 'token', 'config'];
/** The options of `traces subscribe` that take a value. */
export const SUBSCRIBE_VALUED = () => [...COMMON, 'name', ...CONDITION, ...DELIVERY];
const CONDITION = [
  'stage',
  'site',
  'outcome',
  'artifact',
  'stages',
  'stuck',
  'after',
  'event',
  'field',
  'insight',
  'segments',
  'metrics',
  'sites',
  'areas',
  'condition',
  'repository',
  'area',
  'commit',
  'work-item',
];
const DELIVERY = ['webhook', 'secret', 'routing-key', 'jenkins-project', 'jenkins-token'];

interface SubscriptionBody {
  id: string;
  name: string;
  owner: string;
  enabled: boolean;
  condition: Record<string, unknown>;
  delivery: Record<string, unknown>;
  createdAt: string;
  secret?: string;
}

interface FiringBody {
  id: string;
  subject: string;
  status: string;
  createdAt: string;
  attempts: number;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
}

const str = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
};

/** The condition the options describe (the explorer validates it and names what is wrong). */
export function conditionOf(args: ParsedArgs): Record<string, unknown> {
  const given = str(args, 'condition');
  if (given !== undefined) {
    try {
      return JSON.parse(given) as Record<string, unknown>;
    } catch {
      throw new UsageError('--condition must be JSON, e.g. {"on":"stage","stage":"promotion"}');
    }
  }
  const change = Object.fromEntries(
    (
      [
        ['repository', 'repository'],
        ['area', 'area'],
        ['commit', 'commit'],
        ['workItem', 'work-item'],
      ] as const
    ).flatMap(([k, opt]) => (str(args, opt) !== undefined ? [[k, str(args, opt)]] : [])),
  );
  const withChange = Object.keys(change).length ? { change } : {};
  const site = str(args, 'site') !== undefined ? { site: str(args, 'site') } : {};
  const outcome = str(args, 'outcome') !== undefined ? { outcome: str(args, 'outcome') } : {};
  const kinds = ['artifact', 'failure', 'stuck', 'event', 'insight'].filter((k) => args.options.has(k));
  if (kinds.length > 1) throw new UsageError(`give one condition: --${kinds.join(', --')} were all given`);
  switch (kinds[0]) {
    case 'artifact':
      return { on: 'artifact', artifact: str(args, 'artifact'), stage: str(args, 'stage'), ...site, ...outcome, ...withChange };
    case 'failure': {
      const stages = str(args, 'stages');
      return { on: 'failure', ...(stages ? { stages: stages.split(',') } : {}), ...site, ...withChange };
    }
    case 'stuck':
      return { on: 'stuck', stage: str(args, 'stuck'), after: str(args, 'after'), ...withChange };
    case 'event': {
      const fields = str(args, 'field');
      const parsed = fields
        ? Object.fromEntries(
            fields.split(',').map((f) => {
              const at = f.indexOf('=');
              if (at < 1) throw new UsageError(`--field takes PATH=VALUE, got "${f}"`);
              return [f.slice(0, at), f.slice(at + 1)];
            }),
          )
        : undefined;
      return { on: 'event', type: str(args, 'event'), ...site, ...(parsed ? { fields: parsed } : {}) };
    }
    case 'insight': {
      const list = (opt: string): string[] | undefined =>
        str(args, opt)
          ?.split(',')
          .map((x) => x.trim())
          .filter(Boolean);
      const types = list('insight');
      const lists = (
        [
          ['types', types?.includes('any') ? undefined : types],
          ['segments', list('segments')],
          ['metrics', list('metrics')],
          ['sites', list('sites')],
          ['areas', list('areas')],
        ] as const
      ).flatMap(([k, v]) => (v ? [[k, v]] : []));
      return { on: 'insight', ...Object.fromEntries(lists) };
    }
    default:
      if (str(args, 'stage') === undefined)
        throw new UsageError('give a condition: --stage, --artifact, --failure, --stuck, --event, --insight or --condition');
      return { on: 'stage', stage: str(args, 'stage'), ...site, ...outcome, ...withChange };
  }
}

/** Where firings go, from the options. */
export function deliveryOf(args: ParsedArgs): Record<string, unknown> {
  const webhook = str(args, 'webhook');
  if (webhook !== undefined && args.options.has('amqp')) throw new UsageError('give one delivery: --webhook URL or --amqp');
  if (webhook !== undefined) return { type: 'webhook', url: webhook, ...(str(args, 'secret') ? { secret: str(args, 'secret') } : {}) };
  if (!args.options.has('amqp')) throw new UsageError('give a delivery: --webhook URL or --amqp');
  const project = str(args, 'jenkins-project');
  const token = str(args, 'jenkins-token');
  if ((project === undefined) !== (token === undefined)) throw new UsageError('--jenkins-project and --jenkins-token go together');
  return {
    type: 'amqp',
    ...(str(args, 'routing-key') ? { routingKey: str(args, 'routing-key') } : {}),
    ...(project !== undefined ? { jenkins: { project, token } } : {}),
  };
}

export async function subscribeCommand(
  argv: readonly string[],
  out: (s: string) => void = (s) => void process.stdout.write(s + '\n'),
): Promise<number> {
  const valued = SUBSCRIBE_VALUED();
  const args = parseArgs(argv, valued);
  checkKnown(args, [...valued, 'failure', 'amqp', 'json']);
  const name = str(args, 'name');
  if (!name) throw new UsageError('--name NAME is required');
  const created = await explorerRequest<SubscriptionBody>(explorerTarget(args), 'POST', 'api/v1/subscriptions', {
    name,
    condition: conditionOf(args),
    delivery: deliveryOf(args),
  });
  if (args.options.has('json')) out(JSON.stringify(created, null, 2));
  else {
    out(`subscribed: ${created.id} (${created.name}) for ${created.owner}`);
    if (created.secret) out(`webhook secret (shown once; verify X-Traces-Signature-256 with it): ${created.secret}`);
  }
  return 0;
}

export async function subscriptionsCommand(
  argv: readonly string[],
  out: (s: string) => void = (s) => void process.stdout.write(s + '\n'),
): Promise<number> {
  const args = parseArgs(argv, [...COMMON, 'limit']);
  checkKnown(args, [...COMMON, 'limit', 'json']);
  const [action = 'list', id] = args.positionals;
  const target = explorerTarget(args);
  const json = args.options.has('json');
  const needId = (): string => {
    if (!id) throw new UsageError(`"traces subscriptions ${action}" takes a subscription ID`);
    return encodeURIComponent(id);
  };
  switch (action) {
    case 'list': {
      const subs = await explorerRequest<SubscriptionBody[]>(target, 'GET', 'api/v1/subscriptions');
      if (json) out(JSON.stringify(subs, null, 2));
      else if (!subs.length) out('no subscriptions (create one with "traces subscribe")');
      else
        out(
          table(
            ['id', 'name', 'condition', 'delivery', 'enabled'],
            subs.map((s) => [s.id, s.name, describeCondition(s.condition), String(s.delivery['type']), s.enabled ? 'yes' : 'no']),
          ),
        );
      return 0;
    }
    case 'show': {
      const s = await explorerRequest<SubscriptionBody>(target, 'GET', `api/v1/subscriptions/${needId()}`);
      out(JSON.stringify(s, null, 2));
      return 0;
    }
    case 'delete':
      await explorerRequest<undefined>(target, 'DELETE', `api/v1/subscriptions/${needId()}`);
      out(`deleted ${id}`);
      return 0;
    case 'firings': {
      const limit = str(args, 'limit');
      const f = await explorerRequest<FiringBody[]>(
        target,
        'GET',
        `api/v1/subscriptions/${needId()}/firings${limit ? `?limit=${encodeURIComponent(limit)}` : ''}`,
      );
      if (json) out(JSON.stringify(f, null, 2));
      else if (!f.length) out('no firings yet');
      else
        out(
          table(
            ['firing', 'subject', 'status', 'attempts', 'at', 'last error'],
            f.map((x) => [
              x.id.slice(0, 12),
              x.subject,
              x.status,
              String(x.attempts),
              x.deliveredAt ?? x.nextAttemptAt ?? x.createdAt,
              x.lastError ?? '',
            ]),
          ),
        );
      return 0;
    }
    default:
      throw new UsageError(`"traces subscriptions" takes list, show ID, delete ID or firings ID (got "${action}")`);
  }
}

function describeCondition(c: Record<string, unknown>): string {
  const parts = Object.entries(c)
    .filter(([k]) => k !== 'on')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return `${String(c['on'])} ${parts.join(' ')}`.trim();
}
