export * from './types.js';
export { GraphBuilder, graphParams, type ConvOptions, type PoolOptions } from './builder.js';
export { GraphError, isDepthwise, inferShapes, nodeOutputShape, consumersOf, producersOf } from './shapes.js';
export { compileForward, type GraphForward } from './interpreter.js';
export { batchNormAfter, filterLayersOf, costOpsOf } from './network.js';
export { resizeGraph } from './resize.js';
export { graphFromJson, graphToJson, GraphJsonError, GRAPH_METADATA_KEY } from './json.js';
export { checkDataFits, DataFitError, type ImageDataSpec } from './fit.js';
