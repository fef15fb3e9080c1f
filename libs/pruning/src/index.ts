export * from './schedule.js';
export * from './ranking.js';
export * from './plan.js';
export * from './apply.js';
export * from './prune-step.js';
export * from './checksums.js';
export * from './momentum.js';
