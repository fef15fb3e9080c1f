// A counter of in-place writes to tensor storage. tfjs gives every new value a new data id
// (Variable.assign included), but flowprune also updates tensors in place — the fused SGD step,
// the running-statistics update, the float64-decision corrections — and caches derived from a
// tensor's data (the fused eval executor's folded weights) must notice those too. Every in-place
// writer calls noteInPlaceWrite(); a cache compares the epoch it was built at.

let epoch = 0;

export function noteInPlaceWrite(): void {
  epoch++;
}

/** Changes whenever some tensor's data may have been rewritten in place. */
export function inPlaceWriteEpoch(): number {
  return epoch;
}
