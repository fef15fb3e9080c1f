export * from './measure.js';
export * from './weight-measures.js';
export * from './registry.js';
