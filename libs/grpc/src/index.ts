// The small gRPC helper lib: server start-up with health and graceful drain, clients, statuses.
export * from './errors.js';
export * from './handlers.js';
export * from './server.js';
export * from './client.js';
export * from './process.js';
export * from './launch.js';
export * from './testing.js';
export * from './model-ref.js';
export * from './data-stream.js';
export * from './run-spec.js';
export * from './telemetry.js';
export * from './tls.js';
export * from './tls-options.js';
export * from './tls-hint.js';
export * from './bind.js';
export * from './testing-tls.js';
