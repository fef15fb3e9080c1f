import { ATTR_BATCH_INDEX, ATTR_DATA_WAIT, ATTR_IMAGES, isSampledBatch, recordSpan, SPAN_TRAIN_BATCH, trainingMetrics } from '@flowprune/telemetry';
import { applyRunningStats, tf } from '@flowprune/tensor';
import type { Model } from '@flowprune/models';
import { batchToTensors, type PixelBatch } from './batch.js';
import { crossEntropy } from './loss.js';
import type { Sgd } from './sgd.js';

export const BN_MOMENTUM = 0.1;

export interface EpochResult {
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  /** Seconds spent waiting for batches (data) vs computing. */
  dataSeconds: number;
}

export interface BatchHook {
  (info: { batch: number; loss: number; samples: number }): void;
}

/** Sees each step's gradients (by parameter name) after the optimizer step, before they are freed; awaited. */
export interface StepHook {
  (info: { batch: number; grads: ReadonlyMap<string, tf.Tensor> }): void | Promise<void>;
}

/** One training epoch: train-mode BatchNorm (running stats updated as PyTorch does), SGD steps. */
export async function trainEpoch(
  model: Model,
  opt: Sgd,
  batches: AsyncIterable<PixelBatch>,
  temperature: number,
  onBatch?: BatchHook,
  shouldStop?: () => boolean,
  afterStep?: StepHook,
): Promise<EpochResult> {
  const start = performance.now();
  let dataMs = 0;
  let lossSum = 0;
  let correct = 0;
  let samples = 0;
  let index = 0;
  const trainable = new Map<string, tf.Variable>();
  for (const p of model.net.params) {
    const v = model.vars.get(p.name)!;
    if (v?.trainable) trainable.set(p.name, v);
  }
  const names = [...trainable.keys()];
  const varList = [...trainable.values()];
  const it = batches[Symbol.asyncIterator]();
  for (;;) {
    const t0 = performance.now();
    const next = await it.next();
    const waitedMs = performance.now() - t0;
    dataMs += waitedMs;
    if (next.done || shouldStop?.()) break;
    const batch = next.value;
    const bnStats = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>();
    const { x, y } = batchToTensors(batch);
    let preds: tf.Tensor1D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(x, { training: true, bnStats });
      preds = tf.keep(tf.argMax(logits, 1) as tf.Tensor1D);
      return crossEntropy(logits, y, temperature);
    }, varList);
    const byName = new Map<string, tf.Tensor>();
    varList.forEach((v, i) => byName.set(names[i], grads[v.name]));
    opt.step(trainable, byName);
    updateRunningStats(model, bnStats);
    await afterStep?.({ batch: index, grads: byName });
    const loss = (await value.data())[0];
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(preds!, y), 'int32')));
    correct += (await hits.data())[0];
    tf.dispose([value, hits, preds!, x, y, ...Object.values(grads)]);
    lossSum += loss * batch.count;
    samples += batch.count;
    recordBatch(index, batch.count, t0, waitedMs, performance.now());
    onBatch?.({ batch: index, loss, samples });
    index++; // not inside the call above: `?.` skips its arguments when there is no hook
  }
  return {
    loss: samples ? lossSum / samples : NaN,
    accuracy: samples ? correct / samples : NaN,
    samples,
    seconds: (performance.now() - start) / 1000,
    dataSeconds: dataMs / 1000,
  };
}

/** Batch metrics (wait vs compute), and a span for sampled batches; no-ops without an OpenTelemetry SDK. */
function recordBatch(index: number, images: number, startMs: number, waitedMs: number, endMs: number): void {
  const m = trainingMetrics();
  m.images.add(images);
  m.batchDuration.record((endMs - startMs) / 1000);
  m.dataWait.record(waitedMs / 1000);
  m.compute.record((endMs - startMs - waitedMs) / 1000);
  if (isSampledBatch(index)) recordSpan(SPAN_TRAIN_BATCH, startMs, endMs, { [ATTR_BATCH_INDEX]: index, [ATTR_IMAGES]: images, [ATTR_DATA_WAIT]: waitedMs / 1000 });
}

/** running ← (1 − m)·running + m·batch, with the unbiased batch variance; counter + 1. */
function updateRunningStats(model: Model, stats: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>): void {
  const updates = [...stats].map(([prefix, s]) => ({
    runningMean: model.vars.get(`${prefix}.running_mean`)!,
    runningVar: model.vars.get(`${prefix}.running_var`)!,
    ...s,
  }));
  applyRunningStats(updates, BN_MOMENTUM);
  for (const [prefix, s] of stats) {
    const key = `${prefix}.num_batches_tracked`;
    model.numBatchesTracked.set(key, (model.numBatchesTracked.get(key) ?? 0n) + 1n);
    s.mean.dispose();
    s.variance.dispose();
  }
}
