export * from './types.js';
export { GraphBuilder, graphParams, type ConvOptions, type PoolOptions } from './builder.js';
