export * from './batch.js';
export * from './loss.js';
export * from './sgd.js';
export * from './train-epoch.js';
export * from './evaluate.js';
export * from './events.js';
export * from './run-config.js';
export * from './prune-train-run.js';
