// Placeholder; replaced by the backend-selection module.
export * as tf from '@tensorflow/tfjs-core';
