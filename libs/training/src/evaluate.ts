import { tf } from '@flowprune/tensor';
import type { Model } from '@flowprune/models';
import { batchToTensors, type PixelBatch } from './batch.js';
import { crossEntropy } from './loss.js';
import { timedSource } from './timed-source.js';

export interface EvalResult {
  accuracy: number;
  loss: number;
  samples: number;
  seconds: number;
  /** Seconds spent waiting for batches (data) rather than computing. */
  dataSeconds: number;
}

/** Top-1 accuracy and mean loss (logits / T) in eval mode. */
export async function evaluateModel(model: Model, batches: AsyncIterable<PixelBatch>, temperature: number): Promise<EvalResult> {
  const start = performance.now();
  let correct = 0;
  let lossSum = 0;
  let samples = 0;
  let dataMs = 0;
  for await (const batch of timedSource(batches, (ms) => (dataMs += ms))) {
    const { x, y } = batchToTensors(batch);
    const [loss, hits] = tf.tidy(() => {
      const logits = model.forward(x, { training: false });
      return [crossEntropy(logits, y, temperature), tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'))];
    });
    lossSum += (await loss.data())[0] * batch.count;
    correct += (await hits.data())[0];
    samples += batch.count;
    tf.dispose([x, y, loss, hits]);
  }
  return {
    accuracy: samples ? correct / samples : NaN,
    loss: samples ? lossSum / samples : NaN,
    samples,
    seconds: (performance.now() - start) / 1000,
    dataSeconds: dataMs / 1000,
  };
}
