// The `profile` bench suite: where one training step's time goes, flowprune (native backend)
// against PyTorch CPU on the same network, batch, data and thread count. Each side's operators are
// put into the same few categories (convolution forward and backward, BatchNorm, pooling, the
// classifier, the rest) and printed side by side with each category's ratio:
//   resnet56 conv backward      512.0 ms (47%) | pytorch 690.1 ms (49%) | 1.35x
// "outside kernels" is the step's wall time not spent in any timed operator (JavaScript, the
// gradient tape and the optimizer for flowprune; Python, autograd and the profiler for PyTorch).
import { buildNetwork, countMacs, type ArchName } from '@flowprune/models';
import { benchThreads, measuredPeak, rateOfPeak } from './bench-backends.js';
import type { ProfileRecord } from './bench-profile-worker.js';
import { findTorchPython, runTorchScript } from './bench-pytorch.js';
import { runBenchWorker } from './worker-process.js';

export interface ProfileBenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
}

interface TorchProfile {
  arch: string;
  threads: number;
  step_ms: number;
  ops: { name: string; ms: number; calls: number }[];
}

const CATEGORIES = ['conv forward', 'conv backward', 'batchnorm', 'pooling', 'classifier', 'elementwise & rest', 'outside kernels'] as const;
type Category = (typeof CATEGORIES)[number];

/**
 * The category of a tfjs kernel (Conv2DBackpropFilter, FlowpruneBatchNormTrain, ...) or a PyTorch
 * operator (aten::convolution_backward, aten::mkldnn_convolution, aten::native_batch_norm, ...).
 */
export function categoryOf(op: string): Exclude<Category, 'outside kernels'> {
  const name = op.toLowerCase();
  const conv = /conv/.test(name);
  if (conv && /backprop|backward/.test(name)) return 'conv backward';
  if (conv) return 'conv forward';
  if (/batch_?norm/.test(name)) return 'batchnorm';
  if (/pool/.test(name)) return 'pooling';
  if (/matmul|aten::(mm|addmm|linear)$/.test(name)) return 'classifier';
  return 'elementwise & rest';
}

/** Milliseconds per category, "outside kernels" being the step's remainder. */
function byCategory(stepMs: number, ops: { name: string; ms: number }[]): Map<Category, number> {
  const out = new Map<Category, number>(CATEGORIES.map((c) => [c, 0]));
  for (const op of ops) {
    const c = categoryOf(op.name);
    out.set(c, out.get(c)! + op.ms);
  }
  const inside = ops.reduce((s, op) => s + op.ms, 0);
  out.set('outside kernels', Math.max(0, stepMs - inside));
  return out;
}

function runWorker(arch: ArchName, o: ProfileBenchOptions): ProfileRecord | { error: string } {
  const r = runBenchWorker<ProfileRecord>('bench-profile-worker.ts', [arch, String(o.batchSize), String(o.steps)], 'native');
  return 'error' in r ? r : r[0]!;
}

const ms = (v: number, total: number): string => `${v.toFixed(1).padStart(7)} ms (${((100 * v) / total).toFixed(0).padStart(2)}%)`;

export function trainingProfile(o: ProfileBenchOptions): void {
  const threads = benchThreads();
  const torch = findTorchPython();
  console.log(`\n== where a training step's time goes: flowprune (native) vs PyTorch CPU, batch ${o.batchSize}, ${o.steps} steps after 1 warm-up, ${threads} thread(s) ==`);
  const peak = measuredPeak();
  console.log(peak?.line ?? 'peak probe: unavailable (no native addon)');
  for (const arch of o.archs) {
    // A training step as 3 forwards (forward, input gradient, weight gradient), 2 FLOPs per multiply-accumulate.
    const stepFlops = 3 * 2 * countMacs(buildNetwork(arch, 10)) * o.batchSize;
    const atPeak = (stepMs: number) => rateOfPeak(1000 / stepMs, stepFlops, peak?.gflops);
    const ours = runWorker(arch, o);
    if ('error' in ours) {
      console.log(`${arch} failed: ${ours.error}`);
      continue;
    }
    let theirs: TorchProfile | { error: string };
    try {
      theirs = 'reason' in torch ? { error: torch.reason } : (runTorchScript<TorchProfile>(torch, 'torch_profile.py', [
        '--arch', arch, '--batch-size', String(o.batchSize), '--steps', String(o.steps), '--threads', String(threads),
      ])[0] ?? { error: 'no record' });
    } catch (e) {
      theirs = { error: (e as Error).message };
    }
    const mine = byCategory(ours.stepMs, ours.ops);
    const ref = 'error' in theirs ? undefined : byCategory(theirs.step_ms, theirs.ops);
    const head = `${arch} step ${ours.stepMs.toFixed(0)} ms (${ours.threads} thread${ours.threads === 1 ? '' : 's'}, ${atPeak(ours.stepMs)})`;
    console.log('error' in theirs ? `${head} | pytorch n/a (${theirs.error})` : `${head} | pytorch ${theirs.step_ms.toFixed(0)} ms (${atPeak(theirs.step_ms)}) | ${(theirs.step_ms / ours.stepMs).toFixed(2)}x`);
    for (const c of CATEGORIES) {
      const a = mine.get(c)!;
      const b = ref?.get(c);
      if (a < 0.05 && !(b && b >= 0.05)) continue;
      const side = `  ${c.padEnd(20)} ${ms(a, ours.stepMs)}`;
      console.log(b === undefined || 'error' in theirs ? side : `${side} | pytorch ${ms(b, theirs.step_ms)}${a > 0 && b > 0 ? ` | ${(b / a).toFixed(2)}x` : ''}`);
    }
  }
}
