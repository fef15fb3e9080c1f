// Small pure utilities every lib may use (no I/O, no compute backend).
export * from './prng.js';
export * from './redact.js';
export * from './rank-stats.js';
