export * from './mesh.config.js';
export * from './mesh.js';
export * from './process.js';
export * from './publish.js';
export * from './prerequisites.js';
export * from './rabbit-node.js';
export * from './state.js';
export * from './demo.js';
