// @flowprune/telemetry: OpenTelemetry for flowprune. This entry holds what libraries and tools use
// (span and metric helpers over the OTel API, run-id propagation, where a run's trace file is);
// starting the SDK is `@flowprune/telemetry/start`, which only a process's entry module loads.
// Reading and analysing trace files is `@flowprune/trace-analysis`.
export * from './attributes.js';
export * from './spans.js';
export * from './compute-backend.js';
export * from './training-metrics.js';
export * from './config.js';
export * from './trace-path.js';
