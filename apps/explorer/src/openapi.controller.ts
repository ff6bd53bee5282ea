import { Controller, Get } from '@nestjs/common';
import { subscriptionInputSchema } from '@not/graph';
import { z } from 'zod';
import { TRENDS_PATHS } from './trends/trends.openapi.js';

/**
 * The API's OpenAPI 3.1 document, written by hand next to the zod schemas
 * that validate the same inputs (the DTOs are plain interfaces, so there is
 * nothing for a decorator-driven generator to read).
 */
const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const strs = { type: 'array', items: str } as const;
const q = (name: string, description: string, schema: object = str, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});
const p = (name: string, description: string, schema: object = str) => ({ name, in: 'path', required: true, description, schema });
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const ok = (ref: string, description = 'OK') => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const common = { '400': err('a parameter is malformed: `problems` lists each'), '401': err('no bearer token, or not an accepted one') };
const lookups = {
  ...common,
  '404': err('nothing with that identity: `hint` says what to check'),
  '409': err('ambiguous: `candidates` lists the matches'),
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Network of Traces explorer',
    version: '1',
    description:
      'Read side of the traceability graph: where a change is, what a release contains, how long changes take and where they wait, and Eiffel event-repository reads. Every /api/v1 call needs `Authorization: Bearer <token>`.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  paths: {
    ...TRENDS_PATHS,
    '/api/v1/trace/commit/{sha}': {
      get: {
        summary: "A commit's journey downstream across every site",
        parameters: [
          p('sha', 'full or abbreviated sha (4-40 hex digits)', { type: 'string', pattern: '^[0-9a-fA-F]{4,40}$' }),
          q('repo', 'normalised repository key (host/path) to narrow a short sha'),
        ],
        responses: { '200': ok('Trace'), ...lookups },
      },
    },
    '/api/v1/trace/work-item/{key}': {
      get: {
        summary: "A work item's commits and changes and their journeys",
        parameters: [p('key', 'e.g. PAY-42')],
        responses: { '200': ok('Trace'), ...lookups },
      },
    },
    '/api/v1/trace/change/{id}': {
      get: {
        summary: "A change's (review, pull request) journey",
        parameters: [p('id', '<repository>!<number> or <gerrit host>/<Change-Id>, URL-encoded')],
        responses: { '200': ok('Trace'), ...lookups },
      },
    },
    '/api/v1/trace/artifact/{ref}': {
      get: {
        summary: "An artifact's journey downstream, and upstream: the commits and work items inside it",
        parameters: [p('ref', 'sha256:<hex>, a bare hex digest, a purl (pkg:...) or gav:<g>:<a>:<v>, URL-encoded')],
        responses: { '200': ok('ArtifactTrace'), ...lookups },
      },
    },
    '/api/v1/releases/{product}/{version}': {
      get: {
        summary: 'What a release contains (transitively through compositions), optionally diffed against another version',
        parameters: [p('product', 'product name'), p('version', 'version'), q('diff', 'another version of the same product')],
        responses: { '200': ok('Release'), ...lookups },
      },
    },
    '/api/v1/lead-time': {
      get: {
        summary: 'Lead time from first commit to a stage, per segment, with the bottleneck and the DORA figures',
        parameters: [
          q('from', 'window start, ISO-8601 (default: 30 days before "to")', { type: 'string', format: 'date-time' }),
          q('to', 'window end, ISO-8601 (default: now)', { type: 'string', format: 'date-time' }),
          q('until', 'the stage a change must reach in the window', {
            type: 'string',
            enum: ['merge', 'build', 'artifact', 'test', 'publication', 'promotion', 'deployment', 'release'],
            default: 'release',
          }),
          q('area', 'only changes of this area (a repository, or a name from the configured areas)'),
          q('groupBy', 'how to split the figures', { type: 'string', enum: ['stage', 'area', 'site'], default: 'stage' }),
          q('environment', 'with until=deployment: the environment whose deployments count (default: the production ones)'),
        ],
        responses: { '200': ok('LeadTime'), ...common },
      },
    },
    '/api/v1/events/{id}': {
      get: {
        summary: 'One event, Eiffel-shaped',
        parameters: [p('id', 'event id (Eiffel meta.id)')],
        responses: { '200': ok('EiffelEvent'), ...lookups },
      },
    },
    '/api/v1/events/{id}/raw': {
      get: {
        summary: 'The body an event arrived in, exactly as received, whatever its format',
        parameters: [p('id', 'event id')],
        responses: { '200': { description: 'the JSON body as received', content: { 'application/json': { schema: {} } } }, ...lookups },
      },
    },
    '/er/events/{id}': {
      get: {
        summary: 'Eiffel Event Repository (eiffel-goer API): one Eiffel event exactly as received',
        description:
          'The ER routes live under `eiffelApi.basePath` (default `/er`); they are open without a token when `eiffelApi.anonymousRead` is on. Unknown query parameters are ignored.',
        security: [{ bearer: [] }, {}],
        parameters: [
          p('id', 'Eiffel meta.id'),
          q('shallow', 'accepted (there are no external event repositories to ask)', { type: 'boolean', default: false }),
          q('readable', 'meta.time as an ISO-8601 time instead of epoch milliseconds', { type: 'boolean', default: false }),
        ],
        responses: {
          '200': { description: 'the event as received', content: { 'application/json': { schema: { type: 'object' } } } },
          '401': err('no bearer token, and anonymous read is off'),
          '404': {
            description: 'no Eiffel event with that id',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
        },
      },
    },
    '/er/events': {
      get: {
        summary: "Eiffel Event Repository: events oldest first, filtered by goer's query language, with paging",
        description:
          'Each filter is a query parameter `key[.key…]<op>value` with op one of `= != > < >= <=` (`<`/`>` may be sent as `%3C`/`%3E`), `int(key)`, `double(key)`, `bool(key)` for typed comparisons, `key` alone (has the field) or `!key` (has not). Keys are paths into the event (`meta.*`, `data.*`, `links.*`; arrays are looked into). `=` compares whole values, and a value with regular-expression characters also matches as a regular expression anywhere in the field. Filter values are data, never query text.',
        security: [{ bearer: [] }, {}],
        parameters: [
          q('pageNo', 'page, from 1', { type: 'integer', minimum: 1, default: 1 }),
          q('pageSize', 'events per page (at most eiffelApi.maxPageSize)', { type: 'integer', minimum: 1, default: 500 }),
          q('pageStartItem', 'skip this many minus one events first (for pageNo=1)', { type: 'integer', minimum: 1, default: 1 }),
          q('lazy', 'accepted', { type: 'boolean', default: false }),
          q('shallow', 'accepted', { type: 'boolean', default: false }),
          q('readable', 'meta.time as ISO-8601', { type: 'boolean', default: false }),
          {
            name: 'params',
            in: 'query',
            description: 'filters, e.g. meta.type=EiffelArtifactCreatedEvent&data.identity=pkg:maven/my.namespace/my-name@1.0.0',
            schema: { type: 'object', additionalProperties: str },
            style: 'form',
            explode: true,
          },
        ],
        responses: {
          '200': ok('ErPage'),
          '400': {
            description: 'a malformed parameter',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
          '401': err('no bearer token, and anonymous read is off'),
          '422': {
            description: 'the filter would be checked on more than eiffelApi.maxScan events: narrow it',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
        },
      },
    },
    '/er/search/{id}': {
      post: {
        summary: 'Eiffel Event Repository: upstream and downstream events of an event (what Eiffel Intelligence asks)',
        security: [{ bearer: [] }, {}],
        parameters: [
          p('id', 'Eiffel meta.id of the start event'),
          q('limit', 'most events per direction, -1 for no limit (up to eiffelApi.maxSearchEvents)', { type: 'integer', default: -1 }),
          q('levels', 'link levels to follow, -1 for no limit', { type: 'integer', default: -1 }),
          q('tree', "true: Eiffel Intelligence's nested form [start, event | [event, …], …]; false: flat lists", {
            type: 'boolean',
            default: false,
          }),
          q('shallow', 'accepted', { type: 'boolean', default: false }),
          q('readable', 'meta.time as ISO-8601', { type: 'boolean', default: false }),
        ],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  dlt: { ...strs, description: 'link types followed downstream, or ["ALL"]; empty: no downstream search' },
                  ult: { ...strs, description: 'link types followed upstream, or ["ALL"]; empty: no upstream search' },
                },
              },
            },
          },
        },
        responses: {
          '200': ok('ErSearch'),
          '400': {
            description: 'a malformed parameter',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
          '401': err('no bearer token, and anonymous read is off'),
          '404': {
            description: 'no Eiffel event with that id',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
          '422': {
            description: 'an unbounded search reaches more than eiffelApi.maxSearchEvents events: ask with a limit',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErError' } } },
          },
        },
      },
    },
    '/api/v1/events': {
      get: {
        summary: 'Events, newest first, with paging (Eiffel event repository style)',
        parameters: [
          q('meta.type', 'event type, e.g. EiffelArtifactCreatedEvent'),
          q('site', 'site id'),
          q('stage', 'pipeline stage'),
          q('from', 'ISO-8601', { type: 'string', format: 'date-time' }),
          q('to', 'ISO-8601', { type: 'string', format: 'date-time' }),
          q('pageNo', 'page, from 1', { type: 'integer', minimum: 1, default: 1 }),
          q('pageSize', 'items per page', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
        ],
        responses: { '200': ok('EventsPage'), ...common },
      },
    },
    '/api/v1/search/{id}': {
      post: {
        summary: 'Upstream and downstream events linked to an event (Eiffel event repository search)',
        parameters: [
          p('id', 'event id'),
          q('levels', 'link levels to follow, -1 for the configured maximum', { type: 'integer', default: 10 }),
          q('limit', 'most events per direction, -1 for no practical limit', { type: 'integer', default: 1000 }),
        ],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  dlt: { ...strs, description: 'downstream link types or ["ALL"]' },
                  ult: { ...strs, description: 'upstream link types or ["ALL"]' },
                },
              },
            },
          },
        },
        responses: { '200': ok('Search'), ...lookups },
      },
    },
    '/api/v1/stream': {
      get: {
        summary: 'Server-Sent Events of graph changes (event names: event, failure)',
        description: 'EventSource cannot send headers: this path also accepts ?access_token=<token>.',
        parameters: [
          q('commit', 'sha or prefix'),
          q('workItem', 'work-item key'),
          q('release', '<product>@<version>'),
          q('site', 'site id'),
          q('access_token', 'bearer token'),
        ],
        responses: {
          '200': {
            description: 'text/event-stream of GraphChange',
            content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/GraphChange' } } },
          },
          ...common,
        },
      },
    },
    '/api/v1/subscriptions': {
      post: {
        summary: 'Subscribes to a condition; a webhook subscription without a secret gets one, shown once in this answer',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SubscriptionInput' } } } },
        responses: { '201': ok('Subscription', 'created'), ...common },
      },
      get: { summary: "The subscriptions of the token's name", responses: { '200': ok('Subscriptions'), ...common } },
    },
    '/api/v1/subscriptions/{id}': {
      get: { summary: 'One subscription', parameters: [p('id', 'sub-<16 hex>')], responses: { '200': ok('Subscription'), ...lookups } },
      put: {
        summary: 'Replaces a subscription (its firings so far are kept; the secret is kept unless a new one is given)',
        parameters: [p('id', 'sub-<16 hex>')],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SubscriptionInput' } } } },
        responses: { '200': ok('Subscription'), ...lookups },
      },
      delete: {
        summary: 'Deletes a subscription; its undelivered firings are cancelled',
        parameters: [p('id', 'sub-<16 hex>')],
        responses: { '204': { description: 'deleted' }, ...lookups },
      },
    },
    '/api/v1/subscriptions/{id}/firings': {
      get: {
        summary: "A subscription's firings, newest first, with their delivery state",
        parameters: [
          p('id', 'sub-<16 hex>'),
          q('limit', 'at most this many (default 100)', { type: 'integer', minimum: 1, maximum: 10000 }),
        ],
        responses: { '200': ok('Firings'), ...lookups },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        properties: { statusCode: { type: 'integer' }, error: str, message: str, problems: strs, hint: str, candidates: strs },
      },
      Event: {
        type: 'object',
        properties: {
          id: str,
          type: str,
          stage: str,
          phase: str,
          outcome: str,
          time: { type: 'string', format: 'date-time' },
          site: str,
          source: str,
          format: str,
          props: { type: 'object' },
          links: { type: 'array', items: { type: 'object', properties: { type: str, target: str } } },
          about: { type: 'array', items: { type: 'object', properties: { label: str, key: str, role: str } } },
        },
      },
      Trace: {
        type: 'object',
        properties: {
          subject: { type: 'object', properties: { kind: str, query: str, key: str } },
          furthestStage: str,
          stoppedAt: {
            type: ['object', 'null'],
            properties: { stage: str, reason: str, build: str, testRun: str, event: { type: 'object' } },
          },
          stages: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                stage: str,
                reached: { type: 'boolean' },
                first: str,
                last: str,
                events: { type: 'integer' },
                sites: strs,
                outcome: str,
              },
            },
          },
          sites: strs,
          commits: { type: 'array', items: { type: 'object', properties: { key: str, sha: str, repository: str } } },
          changes: { type: 'array' },
          workItems: { type: 'array' },
          builds: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                key: str,
                site: str,
                ci: str,
                job: str,
                number: str,
                name: str,
                url: str,
                result: str,
                triggered: str,
                started: str,
                finished: str,
                queueSeconds: num,
                runSeconds: num,
              },
            },
          },
          testRuns: {
            type: 'array',
            items: {
              type: 'object',
              properties: { key: str, site: str, name: str, result: str, started: str, finished: str, seconds: num },
            },
          },
          artifacts: {
            type: 'array',
            items: {
              type: 'object',
              properties: { key: str, aliases: strs, digests: strs, purls: strs, name: str, sites: strs, created: str },
            },
          },
          publications: { type: 'array' },
          promotions: { type: 'array' },
          deployments: { type: 'array' },
          releases: { type: 'array', items: { type: 'object', properties: { key: str, product: str, version: str, time: str } } },
          events: { type: 'array', items: { $ref: '#/components/schemas/Event' } },
          truncated: { type: 'boolean' },
        },
      },
      ArtifactTrace: {
        allOf: [
          { $ref: '#/components/schemas/Trace' },
          {
            type: 'object',
            properties: {
              upstream: {
                type: 'object',
                properties: { commits: { type: 'array' }, workItems: strs, changes: strs, builds: strs, artifacts: strs },
              },
            },
          },
        ],
      },
      Release: {
        type: 'object',
        properties: {
          product: str,
          version: str,
          key: str,
          artifacts: strs,
          productArtifacts: { ...strs, description: 'artifacts built from the release (linked to it as their COMPOSITION)' },
          previous: { type: ['string', 'null'], description: 'the release of the product before this one' },
          components: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: str,
                artifact: str,
                version: { type: ['string', 'null'] },
                builtFrom: strs,
                previous: { type: ['object', 'null'] },
                history: { type: 'string', enum: ['complete', 'gap', 'back', 'first'] },
                historyFrom: strs,
                commits: strs,
                workItems: strs,
              },
            },
          },
          commits: { type: 'array' },
          workItems: strs,
          changes: strs,
          builds: strs,
          truncated: { type: 'boolean' },
          componentsTruncated: { type: 'boolean' },
          diff: {
            type: 'object',
            properties: {
              against: str,
              components: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: str,
                    status: { type: 'string', enum: ['unchanged', 'upgraded', 'downgraded', 'added', 'removed'] },
                    from: { type: ['object', 'null'] },
                    to: { type: ['object', 'null'] },
                    commitsAdded: strs,
                    commitsRemoved: strs,
                    history: { type: ['string', 'null'] },
                  },
                },
              },
              added: { type: 'object', properties: { artifacts: strs, commits: strs, workItems: strs } },
              removed: { type: 'object', properties: { artifacts: strs, commits: strs, workItems: strs } },
            },
          },
        },
      },
      LeadTime: {
        type: 'object',
        description: 'Durations in seconds. Segments: coding, waiting-for-build, build, test, waiting-for-promotion, promotion-to-release.',
        properties: {
          from: str,
          to: str,
          until: str,
          groupBy: str,
          changes: { type: 'integer' },
          overall: { type: 'object' },
          groups: { type: 'array' },
          dora: {
            type: 'object',
            properties: {
              deployments: { type: 'integer' },
              deploymentFrequencyPerDay: num,
              leadTimeForChangesSeconds: num,
              changeFailureRate: num,
              timeToRestoreSeconds: num,
              rollbacks: { type: 'integer' },
            },
          },
          environment: { type: ['string', 'null'] },
          production: strs,
          environments: {
            type: 'array',
            description: 'every environment deployed to in the window: lead time to it and its DORA figures',
            items: {
              type: 'object',
              properties: {
                name: str,
                production: { type: 'boolean' },
                changes: { type: 'integer' },
                leadTime: { type: 'object' },
                dora: { type: 'object' },
              },
            },
          },
          perChange: { type: 'array' },
          truncated: { type: 'boolean' },
        },
      },
      EiffelEvent: {
        type: 'object',
        properties: { meta: { type: 'object' }, data: { type: 'object' }, links: { type: 'array' }, trace: { type: 'object' } },
      },
      EventsPage: {
        type: 'object',
        properties: {
          pageNo: { type: 'integer' },
          pageSize: { type: 'integer' },
          totalNumberItems: { type: 'integer' },
          items: { type: 'array', items: { $ref: '#/components/schemas/EiffelEvent' } },
        },
      },
      Search: {
        type: 'object',
        properties: {
          upstreamLinkObjects: { type: 'array', items: { $ref: '#/components/schemas/EiffelEvent' } },
          downstreamLinkObjects: { type: 'array', items: { $ref: '#/components/schemas/EiffelEvent' } },
        },
      },
      ErPage: {
        type: 'object',
        required: ['pageNo', 'pageSize', 'totalNumberItems', 'items'],
        properties: {
          pageNo: { type: 'integer' },
          pageSize: { type: 'integer' },
          totalNumberItems: { type: 'integer' },
          items: { type: 'array', items: { type: 'object', description: 'Eiffel events exactly as received' } },
        },
      },
      ErSearch: {
        type: 'object',
        properties: {
          upstreamLinkObjects: { type: 'array', description: 'the searched event, then what it reaches upstream (nested when tree=true)' },
          downstreamLinkObjects: {
            type: 'array',
            description: 'the searched event, then what reaches it downstream (nested when tree=true)',
          },
        },
      },
      ErError: { type: 'object', properties: { errorMsg: str, statusCode: { type: 'integer' } } },
      // Generated from the zod schema that validates the same request.
      SubscriptionInput: z.toJSONSchema(subscriptionInputSchema, { io: 'input' }),
      Subscription: {
        type: 'object',
        properties: {
          id: str,
          owner: str,
          name: str,
          enabled: { type: 'boolean' },
          condition: { type: 'object' },
          delivery: { type: 'object' },
          createdAt: str,
          updatedAt: str,
          secret: { type: 'string', description: 'only in the answer that generated it' },
        },
      },
      Subscriptions: { type: 'array', items: { $ref: '#/components/schemas/Subscription' } },
      Firings: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: str,
            subject: str,
            status: { type: 'string', enum: ['pending', 'delivered', 'dead', 'cancelled'] },
            createdAt: str,
            attempts: num,
            deliveredAt: str,
            nextAttemptAt: str,
            lastError: str,
          },
        },
      },
      GraphChange: { type: 'object', properties: { kind: str, event: { type: 'object' }, commits: strs, workItems: strs, releases: strs } },
    },
  },
} as const;

@Controller('api/docs')
export class OpenApiController {
  @Get()
  document(): typeof OPENAPI_DOCUMENT {
    return OPENAPI_DOCUMENT;
  }
}
