export * from './graph.repository.js';
export * from './graph.schema.js';
export * from './batch-rows.js';
export * from './explorer.reads.js';
export * from './entity-keys.js';
export * from './eiffel.reads.js';
