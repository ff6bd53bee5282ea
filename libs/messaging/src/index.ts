export * from './broker-admin.js';
export * from './amqp-url.js';
export * from './central-topology.js';
export * from './rascal.server.js';
export * from './publisher.js';
export * from './relay-queues.js';
export * from './replay.js';
export * from './sepia.js';
