// One measurement of the backends suite, in its own process (a process has one tfjs backend, and
// a wasm heap that only grows): training and eval images/s of one architecture on the backend
// that FLOWPRUNE_BACKEND names, after one warm-up step per mode, as JSON lines on stdout.
//   node --import tsx tools/bench/src/bench-worker.ts <arch> <batch size> <steps> <modes>
import { buildNetwork, Model, parseArch } from '@flowprune/models';
import { initBackend, tf } from '@flowprune/tensor';
import { evaluateModel, Sgd, trainEpoch } from '@flowprune/training';
import { syntheticBatches } from './synthetic-batches.js';

export interface WorkerRecord {
  arch: string;
  mode: 'train' | 'eval';
  backend: string;
  threads: number;
  imgPerSec: number;
  /** Bytes of live tensors at the end of the timed steps (backend memory in use by the model and optimizer). */
  liveBytes: number;
}

const [archArg, bsArg, stepsArg, modesArg] = process.argv.slice(2);
const arch = parseArch(archArg ?? '');
const bs = Number(bsArg);
const steps = Number(stepsArg);
const modes = (modesArg ?? 'train,eval').split(',');
if (!(bs > 0 && steps > 0)) throw new Error('usage: bench-worker.ts <arch> <batch size> <steps> <modes>');

const info = await initBackend({ log: () => undefined });
const model = Model.init(buildNetwork(arch, 10), 0);
const opt = new Sgd({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
const emit = (mode: WorkerRecord['mode'], r: { samples: number; seconds: number }): void => {
  const rec: WorkerRecord = { arch, mode, backend: info.name, threads: info.threads, imgPerSec: r.samples / r.seconds, liveBytes: tf.memory().numBytes };
  console.log(JSON.stringify(rec));
};
if (modes.includes('train')) {
  await trainEpoch(model, opt, syntheticBatches(1, bs), 5);
  emit('train', await trainEpoch(model, opt, syntheticBatches(steps, bs), 5));
}
if (modes.includes('eval')) {
  await evaluateModel(model, syntheticBatches(1, bs), 5);
  emit('eval', await evaluateModel(model, syntheticBatches(steps, bs), 5));
}
opt.dispose();
model.dispose();
