// @flowprune/telemetry: OpenTelemetry for flowprune. This entry holds what libraries and tools use
// (span and metric helpers over the OTel API, run-id propagation, trace-file analysis); starting the
// SDK is `@flowprune/telemetry/start`, which only a process's entry module loads.
export * from './attributes.js';
export * from './spans.js';
export * from './compute-backend.js';
export * from './training-metrics.js';
export * from './config.js';
export * from './trace-path.js';
export * from './trace-file.js';
export * from './trace-tree.js';
export * from './critical-path.js';
export * from './trace-summary.js';
