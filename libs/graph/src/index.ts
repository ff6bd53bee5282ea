export * from './graph.repository.js';
export * from './graph.schema.js';
export * from './batch-rows.js';
export * from './explorer.reads.js';
export * from './entity-keys.js';
export * from './walk.js';
export * from './journey.js';
export * from './journeys.js';
