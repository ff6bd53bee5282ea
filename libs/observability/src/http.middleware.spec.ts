import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeOf } from './http.middleware.js';

describe('HTTP metrics route label', () => {
  it('is the route template, never the raw path with ids', () => {
    assert.equal(routeOf({ baseUrl: '', route: { path: '/api/v1/trace/commit/:sha' } }), '/api/v1/trace/commit/:sha');
    assert.equal(routeOf({ baseUrl: '/er', route: { path: '/events/:id' } }), '/er/events/:id');
  });

  it('is "unmatched" for a request no route took (a 404), so scanners cannot grow the label set', () => {
    assert.equal(routeOf({ baseUrl: '' }), 'unmatched');
  });
});
