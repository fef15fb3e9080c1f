import type { PixelBatch } from '@flowprune/training';

/**
 * Batch i of the deterministic CIFAR-shaped benchmark data: pixel j is (31 j + 7 i) mod 256,
 * labels cycle through 10 classes (tools/bench/torch_bench.py generates the same for PyTorch).
 */
export function syntheticBatch(i: number, bs: number): PixelBatch {
  return {
    count: bs,
    height: 32,
    width: 32,
    channels: 3,
    pixels: Uint8Array.from({ length: bs * 3072 }, (_, j) => (j * 31 + i * 7) % 256),
    labels: Array.from({ length: bs }, (_, j) => j % 10),
  };
}

/** The first n benchmark batches, generated as they are consumed. */
export function syntheticBatches(n: number, bs: number): AsyncIterable<PixelBatch> {
  return (async function* () {
    for (let i = 0; i < n; i++) yield syntheticBatch(i, bs);
  })();
}
