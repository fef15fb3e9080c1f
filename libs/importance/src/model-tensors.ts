// The bridge between a Model's tf.Variables and the host-side, PyTorch-layout arrays the measures
// reduce, plus the loss every gradient measure differentiates.
import { normalizeToFloat32 } from '@flowprune/data';
import { isTrainable, tfToTorch, type Model, type ParamSpec } from '@flowprune/models';
import { tf, type Float64Decisions } from '@flowprune/tensor';
import type { SampleBatch } from './samples.js';

export interface TrainableTensor {
  spec: ParamSpec;
  variable: tf.Variable;
}

/** θ: the trainable tensors in named_parameters order. */
export function trainableTensors(model: Model): TrainableTensor[] {
  return model.net.params.filter((p) => isTrainable(p.kind)).map((spec) => ({ spec, variable: model.vars.get(spec.name)! }));
}

/** The tensors of the filter layers (conv weight, BN weight, BN bias), the ones the measures read. */
export function filterLayerTensors(model: Model): TrainableTensor[] {
  const names = new Set(model.net.filterLayers.flatMap((l) => [l.conv, `${l.bn}.weight`, `${l.bn}.bias`]));
  return trainableTensors(model).filter((t) => names.has(t.spec.name));
}

/** The filter layers' conv weights only (what the Hessian measures reduce). */
export function convTensors(model: Model): TrainableTensor[] {
  const names = new Set(model.net.filterLayers.map((l) => l.conv));
  return trainableTensors(model).filter((t) => names.has(t.spec.name));
}

/** x = (v/255 − 0.5)/0.5 in float32 (bit-exact torchvision preprocessing), NHWC, and int labels. */
export function batchTensors(b: SampleBatch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(normalizeToFloat32(b.pixels), [b.count, b.height, b.width, b.channels]),
    y: tf.tensor1d(Int32Array.from(b.labels), 'int32'),
  };
}

/** Mean cross-entropy of logits / T (the paper's temperature). */
export function meanCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature: number): tf.Scalar {
  const z = temperature === 1 ? logits : tf.div(logits, temperature);
  const picked = tf.sum(tf.mul(z, tf.oneHot(labels, logits.shape[1])), 1);
  return tf.mean(tf.sub(tf.logSumExp(z, 1), picked)) as tf.Scalar;
}

/** The float64 decisions a forward pass replays, for the samples of its batch. */
export interface ExactForward {
  decisions: Float64Decisions;
  keys: string[];
}

/** One key per image of the batch (its pixels): equal keys, equal inputs. */
function sampleKeys(b: SampleBatch): string[] {
  const per = b.height * b.width * b.channels;
  return Array.from({ length: b.count }, (_, i) => Buffer.from(b.pixels.buffer, b.pixels.byteOffset + i * per, per).toString('base64'));
}

/** Records the float64 decisions of the batch's new images (outside any gradient tape). */
export function prepareExact(model: Model, x: tf.Tensor4D, b: SampleBatch, decisions: Float64Decisions | undefined): ExactForward | undefined {
  if (!decisions) return undefined;
  const keys = sampleKeys(b);
  decisions.prepare((xs) => model.forward(xs, { training: false }), x, keys);
  return { decisions, keys };
}

/** Eval-mode (BatchNorm on running statistics) loss of a batch at temperature T, with float64 decisions when given. */
export function evalLoss(model: Model, x: tf.Tensor4D, y: tf.Tensor1D, temperature: number, exact?: ExactForward): tf.Scalar {
  const forward = () => model.forward(x, { training: false });
  return meanCrossEntropy(exact ? exact.decisions.replay(forward, exact.keys) : forward(), y, temperature);
}

/** A tensor's values in PyTorch layout (conv OIHW, linear [out, in]). */
export function toTorchLayout(spec: ParamSpec, t: tf.Tensor): Float32Array {
  return tfToTorch(spec, t.dataSync() as Float32Array);
}

const permutations = new WeakMap<ParamSpec, Float32Array>();

/** A float64 array in tfjs layout, reordered to PyTorch layout (same permutation as tfToTorch). */
export function toTorchLayout64(spec: ParamSpec, data: Float64Array): Float64Array {
  if (data.length >= 2 ** 24) throw new Error(`${spec.name}: ${data.length} elements is too many for the index permutation`);
  let perm = permutations.get(spec);
  if (!perm) {
    // tfToTorch moves float32 values; moving their indices (exact below 2^24) gives the permutation.
    const idx = new Float32Array(data.length);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    perm = tfToTorch(spec, idx);
    permutations.set(spec, perm);
  }
  const out = new Float64Array(data.length);
  for (let j = 0; j < out.length; j++) out[j] = data[perm[j]];
  return out;
}

/** The current weights of the named tensors in PyTorch layout. */
export function weightsByName(model: Model, names: Iterable<string>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const specs = new Map(model.net.params.map((p) => [p.name, p]));
  for (const n of names) out.set(n, toTorchLayout(specs.get(n)!, model.vars.get(n)!));
  return out;
}
