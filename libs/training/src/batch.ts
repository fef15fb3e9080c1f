import { tf } from '@flowprune/tensor';
import type { SampleBatch } from '@flowprune/importance';

/** A batch as it arrives from the data-loader: uint8 NHWC pixels and class labels (the measures' SampleBatch). */
export type PixelBatch = SampleBatch;

/** x = (v/255 − 0.5)/0.5 in float32, as torchvision's ToTensor + Normalize(0.5, 0.5). */
export function batchToTensors(b: PixelBatch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const n = b.count * b.height * b.width * b.channels;
  if (b.pixels.length !== n) throw new Error(`batch has ${b.pixels.length} pixel bytes, expected ${n}`);
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = Math.fround(Math.fround(b.pixels[i] / 255) - 0.5) / 0.5;
  return {
    x: tf.tensor4d(f, [b.count, b.height, b.width, b.channels]),
    y: tf.tensor1d(Int32Array.from(b.labels), 'int32'),
  };
}
