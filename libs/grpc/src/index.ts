// The small gRPC helper lib: server start-up with health and graceful drain, clients, statuses.
// Test helpers (temp dirs, test certificates, the fuzz harness) are `@flowprune/grpc/testing`.
export * from './errors.js';
export * from './handlers.js';
export * from './server.js';
export * from './client.js';
export * from './process.js';
export * from './launch.js';
export * from './scratch-dir.js';
export * from './model-ref.js';
export * from './data-stream.js';
export * from './retry.js';
export * from './rpc-defaults.js';
export * from './resilient-call.js';
export * from './resilient-stream.js';
export * from './run-spec.js';
export * from './telemetry.js';
export * from './tls.js';
export * from './tls-options.js';
export * from './tls-hint.js';
export * from './bind.js';
export * from './request-checks.js';
export * from './message-limit.js';
export * from './admission.js';
export * from './process-memory.js';
