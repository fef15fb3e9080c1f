import type { PixelBatch } from '@flowprune/training';

/**
 * Batch i of the deterministic CIFAR-shaped benchmark data: pixel j is (31 j + 7 i) mod 256,
 * labels cycle through 10 classes (tools/bench/torch_bench.py generates the same for PyTorch).
 */
export function syntheticBatch(i: number, bs: number): PixelBatch {
  const pixels = new Uint8Array(bs * 3072);
  for (let j = 0; j < pixels.length; j++) pixels[j] = (j * 31 + i * 7) % 256;
  return { count: bs, height: 32, width: 32, channels: 3, pixels, labels: Array.from({ length: bs }, (_, j) => j % 10) };
}

/**
 * The first n benchmark batches, all generated before the first is consumed: PyTorch's reference
 * (torch_bench.py) makes its batches before timing, so making ours inside the timed loop charged
 * flowprune alone (Uint8Array.from with a callback took ~100 ms a batch of 128: 20 % of a
 * MobileNet-V1 training step, more than half of an eval step).
 */
export function syntheticBatches(n: number, bs: number): AsyncIterable<PixelBatch> {
  const batches = Array.from({ length: n }, (_, i) => syntheticBatch(i, bs));
  return (async function* () {
    yield* batches;
  })();
}
