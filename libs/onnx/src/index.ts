// ONNX out: flowprune graphs as ONNX files (code generated from the official onnx.proto), the
// rebuild of flowprune-exported files, and latency measured in ONNX Runtime and on our backend.
export * from './onnx-file.js';
export * from './export.js';
export * from './rebuild.js';
export * from './latency.js';
export * from './import.js';
