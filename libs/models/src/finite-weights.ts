// Weights sent inline with a request must be numbers: a NaN or ±Inf weight would flow through
// every measure and ranking (NaN sorts nowhere) and into stored runs.
import { WeightsError } from './model.js';
import { parseSafeTensors } from './safetensors.js';

/** Throws WeightsError naming the first float tensor that holds NaN or ±Inf. */
export function checkFiniteWeights(bytes: Uint8Array, source = 'model'): void {
  for (const [name, t] of parseSafeTensors(bytes, source).tensors) {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    const data = t.data;
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i])) throw new WeightsError(`${source}: tensor ${name} holds ${data[i]} at element ${i}; weights must be finite numbers`);
  }
}
