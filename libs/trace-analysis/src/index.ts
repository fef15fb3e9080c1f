// @flowprune/trace-analysis: reading a run's trace file (the OTLP/JSON lines that
// `@flowprune/telemetry` writes) and analysing it: the span tree, the critical path, and where the
// run's time went (stages, services, the path), as `flowprune trace` prints it. Reading only: no
// OpenTelemetry SDK here; the span and attribute names come from `@flowprune/telemetry`.
export * from './trace-file.js';
export * from './trace-tree.js';
export * from './critical-path.js';
export * from './trace-summary.js';
