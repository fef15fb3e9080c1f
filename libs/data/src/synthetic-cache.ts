// A synthetic CIFAR-10 kept on disk between runs: the demo and the tracing bench build it once per
// size and seed, and later runs find it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CIFAR10_LAYOUT } from './cifar-dir.js';
import { generateSyntheticCifar10 } from './synthetic.js';

export interface SyntheticCifar10CacheOptions {
  /** The folder that holds one sub-folder per size and seed. */
  dataDir: string;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

/** The synthetic CIFAR-10 binary directory for these sizes and seed under `dataDir`, generated unless it is there. */
export function ensureSyntheticCifar10(o: SyntheticCifar10CacheOptions): string {
  const dir = resolve(o.dataDir, `synthetic-cifar10-${o.trainPerClass}x${o.testPerClass}-s${o.seed}`);
  if (!existsSync(join(dir, CIFAR10_LAYOUT.test[0])))
    generateSyntheticCifar10({ dir, trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, seed: o.seed });
  return dir;
}
