/**
 * The API's OpenAPI 3.1 document, generated: request parameters and bodies from the zod schemas the
 * routes validate with, answers from the schemas their DTO types are inferred from (`api.schemas.ts`).
 * Only prose (summaries, parameter descriptions) is written here.
 */
import { z } from 'zod';
import {
  API_SCHEMAS,
  ArtifactTraceSchema,
  EiffelEventSchema,
  ErErrorSchema,
  ErEventSchema,
  ErPageSchema,
  ErrorSchema,
  ErSearchSchema,
  EventsPageSchema,
  FiringsSchema,
  GraphChangeSchema,
  InsightsSchema,
  LeadTimeSchema,
  ReleaseSchema,
  SearchSchema,
  SubscriptionInputSchema,
  SubscriptionSchema,
  SubscriptionsSchema,
  TraceSchema,
  TrendsSchema,
} from './api.schemas.js';
import { EventsQuery, IdParams, SearchBody, SearchQuery } from './eiffel.controller.js';
import { LeadTimeQuery } from './lead-time.controller.js';
import { ReleaseParams, ReleaseQuery } from './release.controller.js';
import { StreamQuery } from './stream.controller.js';
import { FiringsQuery, SubscriptionParams } from './subscriptions/subscriptions.controller.js';
import { InsightsQuery, TrendsQuery } from './trends/trends.controller.js';
import { ArtifactParams, ChangeParams, CommitParams, KeyParams, TraceQuery } from './validation.js';

const REF = '#/components/schemas/';
type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** A reference to a named answer schema. */
function ref(schema: z.ZodType): Json {
  const meta = API_SCHEMAS.get(schema);
  if (!meta) throw new Error('an answer schema must be named in API_SCHEMAS');
  return { $ref: `${REF}${meta.id}` };
}

/** Parameters of one kind from the zod schema that validates them; `described` gives each its prose. */
function params(where: 'path' | 'query', schema: z.ZodType, described: Record<string, string> = {}): Json[] {
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {})
    .filter(([, s]) => s['type'] !== 'object')
    .map(([name, s]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(described[name] ? { description: described[name] } : {}),
      schema: s,
    }));
}

const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const ok = (schema: z.ZodType, description = 'OK'): Json => json(ref(schema), description);
const err = (description: string): Json => json(ref(ErrorSchema), description);
const erErr = (description: string): Json => json(ref(ErErrorSchema), description);
const common = { '400': err('a parameter is malformed: `problems` lists each'), '401': err('no bearer token, or not an accepted one') };
const lookups = {
  ...common,
  '404': err('nothing with that identity: `hint` says what to check'),
  '409': err('ambiguous: `candidates` lists the matches'),
};
const trendErrors = { ...common, '503': err('trends are disabled, or their first findings are not judged yet (the window is being read)') };
const body = (schema: z.ZodType, required = true): Json => ({
  required,
  content: { 'application/json': { schema: API_SCHEMAS.get(schema) ? ref(schema) : jsonSchema(schema, 'input') } },
});
const erOpen = { security: [{ bearer: [] }, {}] };
const erFlags = (...names: Array<'shallow' | 'readable' | 'lazy'>): Json[] =>
  names.map((name) => ({
    name,
    in: 'query',
    required: false,
    description: name === 'readable' ? 'meta.time as an ISO-8601 time instead of epoch milliseconds' : 'accepted',
    schema: { type: 'boolean', default: false },
  }));
const erInt = (name: string, description: string, dflt: number, minimum?: number): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'integer', default: dflt, ...(minimum !== undefined ? { minimum } : {}) },
});

function paths(er: string): Json {
  return {
    '/api/v1/trace/commit/{sha}': {
      get: {
        summary: "A commit's journey downstream across every site",
        parameters: [
          ...params('path', CommitParams, { sha: 'full or abbreviated sha (4-40 hex digits)' }),
          ...params('query', TraceQuery, { repo: 'normalised repository key (host/path) to narrow a short sha' }),
        ],
        responses: { '200': ok(TraceSchema), ...lookups },
      },
    },
    '/api/v1/trace/work-item/{key}': {
      get: {
        summary: "A work item's commits and changes and their journeys",
        parameters: params('path', KeyParams, { key: 'e.g. PAY-42' }),
        responses: { '200': ok(TraceSchema), ...lookups },
      },
    },
    '/api/v1/trace/change/{id}': {
      get: {
        summary: "A change's (review, pull request) journey",
        parameters: params('path', ChangeParams, { id: '<repository>!<number> or <gerrit host>/<Change-Id>, URL-encoded' }),
        responses: { '200': ok(TraceSchema), ...lookups },
      },
    },
    '/api/v1/trace/artifact/{ref}': {
      get: {
        summary: "An artifact's journey downstream, and upstream: the commits and work items inside it",
        parameters: params('path', ArtifactParams, {
          ref: 'sha256:<hex>, a bare hex digest, a purl (pkg:...) or gav:<g>:<a>:<v>, URL-encoded',
        }),
        responses: { '200': ok(ArtifactTraceSchema), ...lookups },
      },
    },
    '/api/v1/releases/{product}/{version}': {
      get: {
        summary: 'What a release contains (transitively through compositions), optionally diffed against another version',
        parameters: [...params('path', ReleaseParams), ...params('query', ReleaseQuery, { diff: 'another version of the same product' })],
        responses: { '200': ok(ReleaseSchema), ...lookups },
      },
    },
    '/api/v1/lead-time': {
      get: {
        summary: 'Lead time from first commit to a stage, per segment, with the bottleneck and the DORA figures',
        parameters: params('query', LeadTimeQuery, {
          from: 'window start, ISO-8601 (default: 30 days before "to")',
          to: 'window end, ISO-8601 (default: now)',
          until: 'the stage a change must reach in the window',
          area: 'only changes of this area (a repository, or a name from the configured areas)',
          groupBy: 'how to split the figures',
          environment: 'with until=deployment: the environment whose deployments count (default: the production ones)',
        }),
        responses: { '200': ok(LeadTimeSchema), ...common },
      },
    },
    '/api/v1/events': {
      get: {
        summary: 'Events, newest first, with paging (Eiffel event repository style)',
        parameters: params('query', EventsQuery, {
          'meta.type': 'event type, e.g. EiffelArtifactCreatedEvent',
          site: 'site id',
          stage: 'pipeline stage',
          from: 'ISO-8601',
          to: 'ISO-8601',
          pageNo: 'page, from 1',
          pageSize: 'items per page',
        }),
        responses: { '200': ok(EventsPageSchema), ...common },
      },
    },
    '/api/v1/events/{id}': {
      get: {
        summary: 'One event, Eiffel-shaped',
        parameters: params('path', IdParams, { id: 'event id (Eiffel meta.id)' }),
        responses: { '200': ok(EiffelEventSchema), ...lookups },
      },
    },
    '/api/v1/events/{id}/raw': {
      get: {
        summary: 'The body an event arrived in, exactly as received, whatever its format',
        parameters: params('path', IdParams, { id: 'event id' }),
        responses: { '200': json({}, 'the JSON body as received'), ...lookups },
      },
    },
    '/api/v1/search/{id}': {
      post: {
        summary: 'Upstream and downstream events linked to an event (Eiffel event repository search)',
        parameters: [
          ...params('path', IdParams, { id: 'event id' }),
          ...params('query', SearchQuery, {
            levels: 'link levels to follow, -1 for the configured maximum',
            limit: 'most events per direction, -1 for no practical limit',
            tree: 'only false: the nested form is on the Event Repository route',
          }),
        ],
        requestBody: body(SearchBody, false),
        responses: { '200': ok(SearchSchema), ...lookups },
      },
    },
    '/api/v1/stream': {
      get: {
        summary: 'Server-Sent Events of graph changes (event names: event, failure)',
        description: 'EventSource cannot send headers: this path also accepts ?access_token=<token>.',
        parameters: params('query', StreamQuery, {
          commit: 'sha or prefix',
          workItem: 'work-item key',
          release: '<product>@<version>',
          site: 'site id',
          access_token: 'bearer token',
        }),
        responses: {
          '200': {
            description: 'text/event-stream; each data line is a GraphChange',
            content: { 'text/event-stream': { schema: ref(GraphChangeSchema) } },
          },
          ...common,
        },
      },
    },
    '/api/v1/subscriptions': {
      post: {
        summary: 'Subscribes to a condition; a webhook subscription without a secret gets one, shown once in this answer',
        requestBody: body(SubscriptionInputSchema),
        responses: { '201': ok(SubscriptionSchema, 'created'), ...common },
      },
      get: { summary: "The subscriptions of the token's name", responses: { '200': ok(SubscriptionsSchema), ...common } },
    },
    '/api/v1/subscriptions/{id}': {
      get: {
        summary: 'One subscription',
        parameters: params('path', SubscriptionParams, { id: 'sub-<16 hex>' }),
        responses: { '200': ok(SubscriptionSchema), ...lookups },
      },
      put: {
        summary: 'Replaces a subscription (its firings so far are kept; the secret is kept unless a new one is given)',
        parameters: params('path', SubscriptionParams, { id: 'sub-<16 hex>' }),
        requestBody: body(SubscriptionInputSchema),
        responses: { '200': ok(SubscriptionSchema), ...lookups },
      },
      delete: {
        summary: 'Deletes a subscription; its undelivered firings are cancelled',
        parameters: params('path', SubscriptionParams, { id: 'sub-<16 hex>' }),
        responses: { '204': { description: 'deleted' }, ...lookups },
      },
    },
    '/api/v1/subscriptions/{id}/firings': {
      get: {
        summary: "A subscription's firings, newest first, with their delivery state",
        parameters: [
          ...params('path', SubscriptionParams, { id: 'sub-<16 hex>' }),
          ...params('query', FiringsQuery, { limit: 'at most this many' }),
        ],
        responses: { '200': ok(FiringsSchema), ...lookups },
      },
    },
    '/api/v1/trends': {
      get: {
        summary:
          'Series per segment (and area, site or repository): time spent, throughput, failure rate, queue, arrivals; anomalies marked, forecast bands',
        parameters: params('query', TrendsQuery, {
          segment: 'one lead-time segment (default: all of them)',
          groupBy: 'split by area, site or repository (default: all changes together)',
          group: 'only this area, site or repository',
          bucket: 'hour or day',
          from: 'window start, ISO-8601 (default: 7 days before "to")',
          to: 'window end, ISO-8601 (default: the last computation)',
        }),
        responses: { '200': ok(TrendsSchema, 'the series, each with its findings and forecast band'), ...trendErrors },
      },
    },
    '/api/v1/insights': {
      get: {
        summary:
          'Current findings, most severe first: objective breaches and forecasts, anomalies, trends, stuck changes, each with its evidence',
        parameters: params('query', InsightsQuery, {
          type: 'only findings of this type',
          segment: 'only this segment',
          area: 'only findings about this area',
          site: 'only findings about this site',
          limit: 'most findings returned',
        }),
        responses: { '200': ok(InsightsSchema, 'the findings'), ...trendErrors },
      },
    },
    [`${er}/events/{id}`]: {
      get: {
        summary: 'Eiffel Event Repository (eiffel-goer API): one Eiffel event exactly as received',
        description: `The ER routes live under \`eiffelApi.basePath\` (here \`${er}\`); they are open without a token when \`eiffelApi.anonymousRead\` is on. Unknown query parameters are ignored.`,
        ...erOpen,
        parameters: [
          { name: 'id', in: 'path', required: true, description: 'Eiffel meta.id', schema: { type: 'string' } },
          ...erFlags('shallow', 'readable'),
        ],
        responses: {
          '200': ok(ErEventSchema, 'the event as received'),
          '401': err('no bearer token, and anonymous read is off'),
          '404': erErr('no Eiffel event with that id'),
        },
      },
    },
    [`${er}/events`]: {
      get: {
        summary: "Eiffel Event Repository: events oldest first, filtered by goer's query language, with paging",
        description:
          'Each filter is a query parameter `key[.key…]<op>value` with op one of `= != > < >= <=` (`<`/`>` may be sent as `%3C`/`%3E`), `int(key)`, `double(key)`, `bool(key)` for typed comparisons, `key` alone (has the field) or `!key` (has not). Keys are paths into the event (`meta.*`, `data.*`, `links.*`; arrays are looked into). `=` compares whole values, and a value with regular-expression characters also matches as a regular expression anywhere in the field. Filter values are data, never query text.',
        ...erOpen,
        parameters: [
          erInt('pageNo', 'page, from 1', 1, 1),
          erInt('pageSize', 'events per page (at most eiffelApi.maxPageSize)', 500, 1),
          erInt('pageStartItem', 'skip this many minus one events first (for pageNo=1)', 1, 1),
          ...erFlags('lazy', 'shallow', 'readable'),
          {
            name: 'params',
            in: 'query',
            description: 'filters, e.g. meta.type=EiffelArtifactCreatedEvent&data.identity=pkg:maven/my.namespace/my-name@1.0.0',
            schema: { type: 'object', additionalProperties: { type: 'string' } },
            style: 'form',
            explode: true,
          },
        ],
        responses: {
          '200': ok(ErPageSchema),
          '400': erErr('a malformed parameter'),
          '401': err('no bearer token, and anonymous read is off'),
          '422': erErr('the filter would be checked on more than eiffelApi.maxScan events: narrow it'),
        },
      },
    },
    [`${er}/search/{id}`]: {
      post: {
        summary: 'Eiffel Event Repository: upstream and downstream events of an event (what Eiffel Intelligence asks)',
        ...erOpen,
        parameters: [
          { name: 'id', in: 'path', required: true, description: 'Eiffel meta.id of the start event', schema: { type: 'string' } },
          erInt('limit', 'most events per direction, -1 for no limit (up to eiffelApi.maxSearchEvents)', -1),
          erInt('levels', 'link levels to follow, -1 for no limit', -1),
          {
            name: 'tree',
            in: 'query',
            required: false,
            description: "true: Eiffel Intelligence's nested form [start, event | [event, …], …]; false: flat lists",
            schema: { type: 'boolean', default: false },
          },
          ...erFlags('shallow', 'readable'),
        ],
        requestBody: body(SearchBody, false),
        responses: {
          '200': ok(ErSearchSchema),
          '400': erErr('a malformed parameter'),
          '401': err('no bearer token, and anonymous read is off'),
          '404': erErr('no Eiffel event with that id'),
          '422': erErr('an unbounded search reaches more than eiffelApi.maxSearchEvents events: ask with a limit'),
        },
      },
    },
  };
}

/** Every named schema, as `components.schemas`. */
function components(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(API_SCHEMAS, { uri: (id) => `${REF}${id}`, io: 'output', unrepresentable: 'any' }) as unknown as {
    schemas: Record<string, Json>;
  };
  const out: Record<string, Json> = {};
  for (const [id, { $schema: _s, $id: _i, ...rest }] of Object.entries(schemas)) out[id] = rest;
  // The request body is what a caller sends: its defaults may be left out.
  out['SubscriptionInput'] = jsonSchema(SubscriptionInputSchema, 'input');
  return out;
}

/** The document for an explorer whose Event Repository routes are at `erBasePath` (`eiffelApi.basePath`). */
export function openApiDocument(erBasePath = '/er'): Json {
  const er = `/${erBasePath.replace(/^\/+|\/+$/g, '')}`;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Network of Traces explorer',
      version: '1',
      description:
        'Read side of the traceability graph: where a change is, what a release contains, how long changes take and where they wait, and Eiffel event-repository reads. Every /api/v1 call needs `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: paths(er),
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: components() },
  };
}
