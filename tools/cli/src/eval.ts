// `flowprune eval`: the paper's eval.py — train/test accuracy, FLOPs, compression of a checkpoint.
// Accuracies go through the evaluator service (started with a data-loader over --dataset).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Table from 'cli-table3';
import { idempotentCall, makeClient, rpcDefaults } from '@flowprune/grpc';
import { compressionRatio, countFlops, countMacs, countParameters, Model, parseArch, unprunedNetwork } from '@flowprune/models';
import { EvaluatorServiceClient, Split } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';
import { startStack } from './stack.js';
import { closeStore, storeFrom } from './store-option.js';

export interface EvalOptions {
  arch?: string;
  numClasses?: number;
  weights?: string;
  run?: string;
  checkpoint?: string;
  store?: string;
  dataset?: string;
  trainAcc: boolean;
  testAcc: boolean;
  flops: boolean;
  compression: boolean;
  batchSize: number;
}

/** The checkpoint named by --weights, or by --run and --checkpoint in the run store. */
export async function checkpointBytes(o: Pick<EvalOptions, 'weights' | 'run' | 'checkpoint' | 'store'>): Promise<Uint8Array> {
  if (o.weights) return new Uint8Array(readFileSync(o.weights));
  if (!o.run || !o.checkpoint) throw new Error('give --weights FILE, or --run RUN --checkpoint NAME');
  const store = storeFrom(o.store);
  try {
    const cp = await store.getCheckpoint(o.run, o.checkpoint);
    if (!cp) throw new Error(`run ${o.run} has no checkpoint "${o.checkpoint}" (see \`flowprune runs show ${o.run}\`)`);
    return cp.bytes;
  } finally {
    await closeStore(store);
  }
}

export async function runEval(o: EvalOptions): Promise<void> {
  const bytes = await checkpointBytes(o);
  await initBackend({ log: () => undefined });
  const model = Model.fromSafeTensors(bytes, { arch: o.arch ? parseArch(o.arch) : undefined, numClasses: o.numClasses }, o.weights ?? `${o.run}/${o.checkpoint}`);
  const net = model.net;
  const rows: [string, string][] = [
    ['architecture', `${net.arch}, ${net.numClasses} classes${model.masks.size ? ', masked ResNet channels' : ''}`],
    ['parameters', countParameters(net).toLocaleString('en-US')],
  ];
  const all = !o.trainAcc && !o.testAcc && !o.flops && !o.compression;
  if (o.flops || all) rows.push(['FLOPs (ptflops 0.6.2)', countFlops(net).toLocaleString('en-US')], ['conv+linear MACs', countMacs(net).toLocaleString('en-US')]);
  if (o.compression || all) rows.push(['compression ratio', compressionRatio(unprunedNetwork(net), net).toFixed(3)]);
  const splits = [...(o.trainAcc ? [['train', Split.SPLIT_TRAIN] as const] : []), ...(o.testAcc ? [['test', Split.SPLIT_TEST] as const] : [])];
  if (splits.length) {
    if (!o.dataset) throw new Error('--train-acc/--test-acc need --dataset DIR (a CIFAR-10/100 folder)');
    const stack = await startStack({ datasets: [`eval=${resolve(o.dataset)}`], storeDir: resolve(o.store ?? 'runs'), onOutput: () => undefined });
    try {
      const ev = makeClient(EvaluatorServiceClient, stack.evaluator.address);
      for (const [name, split] of splits) {
        // As eval.py: no temperature, no augmentation, the whole split.
        const req = { model: { safetensors: Buffer.from(bytes) }, dataset: { name: 'eval' }, split, batchSize: o.batchSize, temperature: 1, maxSamples: 0 };
        const r = await idempotentCall(ev, ev.evaluate, req, { name: 'evaluator', timeoutMs: rpcDefaults().computeDeadlineMs });
        rows.push([`${name} accuracy`, `${(100 * r.accuracy).toFixed(2)} % (${r.samples} images, loss ${r.loss.toFixed(4)}, ${r.seconds.toFixed(1)} s on ${r.backend})`]);
      }
      ev.close();
    } finally {
      await stack.stop();
    }
  }
  const t = new Table(process.stdout.isTTY ? {} : { style: { head: [], border: [] } });
  for (const [k, v] of rows) t.push({ [k]: v });
  console.log(t.toString());
  model.dispose();
}
