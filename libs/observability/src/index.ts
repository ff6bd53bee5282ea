export * from './json.logger.js';
export * from './health.registry.js';
export * from './observability.controller.js';
export * from './observability.module.js';
export * from './bootstrap.js';
export * from './request-context.js';
