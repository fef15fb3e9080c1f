// @flowprune/grpc/testing: what the services' and tools' tests share (a temp dir, test certificates,
// the fuzz harness of the *.fuzz.test.ts files). Only tests import it; the lint forbids it in
// production code (eslint.config.mjs, docs/architecture.md#layers-and-what-each-may-import).
export { scratchDir as tempDir } from '../scratch-dir.js';
export * from './tls.js';
export * from './fuzz/fuzz-values.js';
export * from './fuzz/fuzz-wire.js';
export * from './fuzz/fuzz-harness.js';
