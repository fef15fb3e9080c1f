// Fuzzing helpers for the services' *.fuzz.test.ts files.
export * from './fuzz-values.js';
export * from './fuzz-wire.js';
export * from './fuzz-harness.js';
