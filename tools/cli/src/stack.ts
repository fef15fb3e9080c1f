// Starts the four services as child processes on free localhost ports, wired to each other.
import { resolve } from 'node:path';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { SERVICE_ENTRIES } from './paths.js';

export interface Stack {
  dataLoader: LaunchedService;
  estimator: LaunchedService;
  evaluator: LaunchedService;
  trainer: LaunchedService;
  all: LaunchedService[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** name=dir dataset roots for the data-loader. */
  datasets: string[];
  storeDir: string;
  /** Extra estimator addresses tried after the built-in one. */
  extraEstimators?: string[];
  onOutput?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const started: LaunchedService[] = [];
  // Every service files its spans beside the run store's records (the data-loader has no --store).
  const traceDir = /^mongodb(\+srv)?:\/\//.test(opts.storeDir) ? {} : { FLOWPRUNE_TRACE_DIR: process.env.FLOWPRUNE_TRACE_DIR ?? resolve(opts.storeDir) };
  const launch = async (name: keyof typeof SERVICE_ENTRIES, args: string[]) => {
    const s = await launchService({ name, entry: SERVICE_ENTRIES[name], args, onOutput: opts.onOutput, env: { ...traceDir, ...opts.env } });
    started.push(s);
    return s;
  };
  const stop = async () => {
    await Promise.all(started.reverse().map((s) => s.stop()));
  };
  try {
    const dataLoader = await launch('data-loader', opts.datasets.flatMap((d) => ['--dataset', d]));
    const [estimator, evaluator] = await Promise.all([
      launch('importance-estimator', ['--store', opts.storeDir, '--data-loader', dataLoader.address]),
      launch('evaluator', ['--store', opts.storeDir, '--data-loader', dataLoader.address]),
    ]);
    const trainer = await launch('trainer', [
      '--store',
      opts.storeDir,
      '--data-loader',
      dataLoader.address,
      '--evaluator',
      evaluator.address,
      '--estimator',
      estimator.address,
      ...(opts.extraEstimators ?? []),
    ]);
    return { dataLoader, estimator, evaluator, trainer, all: [dataLoader, estimator, evaluator, trainer], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
