// One architecture of the profile suite, in its own process (it wraps every kernel of the active
// backend with a timer, which no other suite should pay for): the kernels' time in `steps` training
// steps after one warm-up, as one JSON line on stdout.
//   node --import tsx tools/bench/src/bench-profile-worker.ts <arch> <batch size> <steps>
import { buildNetwork, Model, parseArch } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { Sgd, trainEpoch } from '@flowprune/training';
import { syntheticBatches } from './synthetic-batches.js';

export interface ProfileRecord {
  arch: string;
  backend: string;
  threads: number;
  /** Wall time of one training step (ms). */
  stepMs: number;
  /** Per kernel: time inside it per step (ms) and calls per step. */
  ops: { name: string; ms: number; calls: number }[];
}

const [archArg, bsArg, stepsArg] = process.argv.slice(2);
const arch = parseArch(archArg ?? '');
const bs = Number(bsArg);
const steps = Number(stepsArg);
if (!(bs > 0 && steps > 0)) throw new Error('usage: bench-profile-worker.ts <arch> <batch size> <steps>');

const info = await initBackend({ log: () => undefined });
const model = Model.init(buildNetwork(arch, 10), 0);
const opt = new Sgd({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
await trainEpoch(model, opt, syntheticBatches(1, bs), 5);

// Every kernel of this backend is synchronous (native and wasm compute before returning), so the
// wall time around its kernelFunc is its compute time.
const spent = new Map<string, { ms: number; calls: number }>();
for (const kernel of tf.getKernelsForBackend(info.name)) {
  const run = kernel.kernelFunc;
  tf.unregisterKernel(kernel.kernelName, kernel.backendName);
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      const t0 = performance.now();
      const out = run(args);
      const e = spent.get(kernel.kernelName) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      spent.set(kernel.kernelName, e);
      return out;
    },
  });
}
const t0 = performance.now();
await trainEpoch(model, opt, syntheticBatches(steps, bs), 5);
const record: ProfileRecord = {
  arch,
  backend: info.name,
  threads: info.threads,
  stepMs: (performance.now() - t0) / steps,
  ops: [...spent].map(([name, e]) => ({ name, ms: e.ms / steps, calls: e.calls / steps })),
};
console.log(JSON.stringify(record));
opt.dispose();
model.dispose();
