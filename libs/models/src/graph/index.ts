export * from './types.js';
export { GraphBuilder, graphParams, type ConvOptions, type PoolOptions } from './builder.js';
export { graphFromJson, graphToJson, GraphJsonError, GRAPH_METADATA_KEY } from './json.js';
export { resizeGraph, GraphResizeError } from './resize.js';
export { checkDataFits, DataFitError, type ImageDataSpec } from './fit.js';
