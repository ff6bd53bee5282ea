import { z } from 'zod';
import { InsightsQuery, TrendsQuery } from './trends.controller.js';

/** Query parameters of a route, from the zod schema that validates them. */
function parameters(schema: z.ZodType, descriptions: Record<string, string>): object[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object> };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    description: descriptions[name] ?? name,
    schema: s,
  }));
}

const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const responses = (description: string) => ({
  '200': { description, content: { 'application/json': { schema: { type: 'object' } } } },
  '400': err('a parameter is malformed: `problems` lists each'),
  '401': err('no bearer token, or not an accepted one'),
  '503': err('trends are disabled, or their first round has not finished'),
});

/** The OpenAPI paths of the trend routes (docs/explorer.md, "Trends and insights"). */
export const TRENDS_PATHS = {
  '/api/v1/trends': {
    get: {
      summary:
        'Series per segment (and area, site or repository): time spent, throughput, failure rate, queue, arrivals; anomalies marked, forecast bands',
      parameters: parameters(TrendsQuery, {
        segment: 'one lead-time segment (default: all of them)',
        groupBy: 'split by area, site or repository (default: all changes together)',
        group: 'only this area, site or repository',
        bucket: 'hour or day',
        from: 'window start, ISO-8601 (default: 7 days before "to")',
        to: 'window end, ISO-8601 (default: the last computation)',
      }),
      responses: responses('the series, each with its findings and forecast band'),
    },
  },
  '/api/v1/insights': {
    get: {
      summary:
        'Current findings, most severe first: objective breaches and forecasts, anomalies, trends, stuck changes, each with its evidence',
      parameters: parameters(InsightsQuery, {
        type: 'only findings of this type',
        segment: 'only this segment',
        area: 'only findings about this area',
        site: 'only findings about this site',
        limit: 'most findings returned (1..1000, default 100)',
      }),
      responses: responses('the findings'),
    },
  },
};
