// Micro-benchmark of the wasm training kernels supplied by @flowprune/tensor.
//   npx tsx tools/bench/tensor-train-step.ts [--batch 32] [--reps 5] [--cpu]
// Per layer: forward, each backprop kernel (ours; the stock wasm Conv2DBackpropInput where one
// exists), a full forward+backward via tf.grads and, with --cpu (slow: minutes), the same
// forward+backward on the cpu backend, the only other place the missing kernels exist.
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { batchNorm2d, batchNorm2dTrain, initBackend, tf } from '../src/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const BATCH = arg('batch', 32);
const REPS = arg('reps', 5);
const WITH_CPU = process.argv.includes('--cpu');

void wasmBackend; // imported first so the stock kernels exist before ours replace them
const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
const info = await initBackend({ prefer: 'wasm' });
if (info.name !== 'wasm') throw new Error(`benchmark needs wasm, got ${info.name} (unset FLOWPRUNE_BACKEND?)`);

/** Median wall time in ms of fn (result data read back and disposed) after one warm-up run. */
function time(fn: () => tf.Tensor | tf.Tensor[], reps = REPS): number {
  const run = (): number => {
    const t0 = performance.now();
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    list.forEach((t) => t.dataSync());
    const ms = performance.now() - t0;
    tf.dispose(list);
    return ms;
  };
  run();
  const samples = Array.from({ length: reps }, run).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? NaN;
}

async function onCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  await tf.setBackend('cpu');
  try {
    return time(fn, 1);
  } finally {
    await tf.setBackend('wasm');
  }
}

const fmt = (ms: number, flops?: number): string =>
  `${ms.toFixed(1).padStart(7)} ms` + (flops ? ` ${(flops / ms / 1e6).toFixed(1).padStart(5)} GF/s` : '');

interface ConvLayer {
  name: string;
  hw: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  depthwise?: boolean;
}

const LAYERS: ConvLayer[] = [
  { name: 'stem 3->16 3x3 s1', hw: 32, cin: 3, cout: 16, k: 3, stride: 1 },
  { name: '16->16 3x3 s1', hw: 32, cin: 16, cout: 16, k: 3, stride: 1 },
  { name: '16->32 3x3 s2', hw: 32, cin: 16, cout: 32, k: 3, stride: 2 },
  { name: 'proj 16->32 1x1 s2', hw: 32, cin: 16, cout: 32, k: 1, stride: 2 },
  { name: '64->64 3x3 s1 (8x8)', hw: 8, cin: 64, cout: 64, k: 3, stride: 1 },
  { name: 'dw 32ch 3x3 s1', hw: 32, cin: 32, cout: 32, k: 3, stride: 1, depthwise: true },
  { name: 'dw 32ch 3x3 s2', hw: 32, cin: 32, cout: 32, k: 3, stride: 2, depthwise: true },
];

console.log(`batch ${BATCH}, median of ${REPS}; backend: ${info.package}, ${info.threads} thread(s); GF/s = useful FLOPs / time`);
for (const l of LAYERS) {
  const pad = (l.k - 1) / 2;
  const p: [[0, 0], [number, number], [number, number], [0, 0]] = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const x = tf.randomNormal([BATCH, l.hw, l.hw, l.cin]) as tf.Tensor4D;
  const w = tf.randomNormal(l.depthwise ? [l.k, l.k, l.cin, 1] : [l.k, l.k, l.cin, l.cout]) as tf.Tensor4D;
  const fwd = (): tf.Tensor4D => (l.depthwise ? tf.depthwiseConv2d(x, w, l.stride, p) : tf.conv2d(x, w, l.stride, p));
  const y = fwd();
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const [, oh, ow] = y.shape;
  const flops = 2 * BATCH * oh * ow * l.cout * (l.depthwise ? 1 : l.cin) * l.k * l.k;
  const grads = (): tf.Tensor[] =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(l.depthwise ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, l.stride, p) : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, l.stride, p), dy)),
    )([x, w]);
  const attrs = { strides: l.stride, pad: p, dataFormat: 'NHWC', dilations: 1 };
  const [inputKernel, filterKernel] = l.depthwise
    ? [tf.DepthwiseConv2dNativeBackpropInput, tf.DepthwiseConv2dNativeBackpropFilter]
    : [tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter];
  const dX = (): tf.Tensor =>
    tf.engine().runKernel(inputKernel, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
  const dW = (): tf.Tensor =>
    tf.engine().runKernel(filterKernel, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
  const stockDX = (): tf.Tensor => {
    if (!stockInput) throw new Error('no stock kernel');
    const out = stockInput.kernelFunc({ inputs: { dy, filter: w }, backend: tf.backend(), attrs: { ...attrs, inputShape: x.shape } });
    return tf.engine().makeTensorFromTensorInfo(Array.isArray(out) ? out[0]! : out);
  };
  const cols = [
    `fwd ${fmt(time(fwd), flops)}`,
    `dX ${fmt(time(dX), flops)}`,
    l.depthwise ? `stock dX ${'(none)'.padStart(10)}` : `stock dX ${fmt(time(stockDX, 2), flops)}`,
    `dW ${fmt(time(dW), flops)}`,
    `fwd+bwd ${fmt(time(grads))}`,
  ];
  if (WITH_CPU) cols.push(`cpu fwd+bwd ${fmt(await onCpu(grads))}`);
  console.log(`${l.name.padEnd(20)} ${cols.join(' | ')}`);
  tf.dispose([x, w, y, dy]);
}

// Batch norm (train mode) forward+backward: ours vs the tfjs-core path (moments + tf.batchNorm,
// whose FusedBatchNorm gradient uses tile()), alone and inside a ResNet basic block.
{
  const c = 16;
  const x = tf.randomNormal([BATCH, 32, 32, c]) as tf.Tensor4D;
  const g = tf.ones([c]) as tf.Tensor1D;
  const b = tf.zeros([c]) as tf.Tensor1D;
  const ours = (): tf.Tensor[] =>
    tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.square(batchNorm2dTrain(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D).y)),
    )([x, g, b]);
  const core = (): tf.Tensor[] =>
    tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.square(tf.batchNorm(a, mean, variance, o, s, 1e-5)));
    })([x, g, b]);
  const evalOurs = (): tf.Tensor[] =>
    tf.grads((a: tf.Tensor) => tf.sum(tf.square(batchNorm2d(a as tf.Tensor4D, b, g, g, b))))([x]);
  console.log(
    `${'batchnorm 16ch train'.padEnd(20)} ours fwd+bwd ${fmt(time(ours))} | tfjs-core fwd+bwd ${fmt(time(core, 2))} | ours eval-mode fwd+bwd ${fmt(time(evalOurs))}`,
  );

  const p1: [[0, 0], [1, 1], [1, 1], [0, 0]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
  const w1 = tf.randomNormal([3, 3, c, c], 0, 0.1) as tf.Tensor4D;
  const w2 = tf.randomNormal([3, 3, c, c], 0, 0.1) as tf.Tensor4D;
  const coreBn = (h: tf.Tensor4D, s: tf.Tensor1D, o: tf.Tensor1D): tf.Tensor4D => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.batchNorm(h, mean, variance, o, s, 1e-5) as tf.Tensor4D;
  };
  const block = (bn: (h: tf.Tensor4D, s: tf.Tensor1D, o: tf.Tensor1D) => tf.Tensor4D) => (): tf.Tensor[] =>
    tf.grads((a: tf.Tensor, k1: tf.Tensor, k2: tf.Tensor) => {
      const h = tf.relu(bn(tf.conv2d(a as tf.Tensor4D, k1 as tf.Tensor4D, 1, p1), g, b));
      const out = tf.relu(tf.add(bn(tf.conv2d(h, k2 as tf.Tensor4D, 1, p1), g, b), a));
      return tf.sum(tf.square(out));
    })([x, w1, w2]);
  console.log(
    `${'basic block 16ch'.padEnd(20)} conv-bn-relu-conv-bn-add-relu fwd+bwd: ours ${fmt(time(block((h, s, o) => batchNorm2dTrain(h, s, o).y)))} | with tfjs-core BN ${fmt(time(block(coreBn), 2))}`,
  );
  tf.dispose([x, g, b, w1, w2]);
}
