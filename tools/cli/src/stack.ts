// Starts the four services as child processes on free localhost ports, wired to each other.
import { resolve } from 'node:path';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { isMongoUri } from '@flowprune/store';
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
  const isUri = isMongoUri(opts.storeDir);
  const traceDir = isUri ? {} : { FLOWPRUNE_TRACE_DIR: process.env.FLOWPRUNE_TRACE_DIR ?? resolve(opts.storeDir) };
  // A store URI may hold a password: it goes to the children in their environment, not on their
  // command lines (which `ps` shows to every user of the machine).
  const store = isUri ? { FLOWPRUNE_STORE: opts.storeDir } : {};
  const storeArgs = isUri ? [] : ['--store', opts.storeDir];
  const launch = async (name: keyof typeof SERVICE_ENTRIES, args: string[]) => {
    const s = await launchService({ name, entry: SERVICE_ENTRIES[name], args, onOutput: opts.onOutput, env: { ...traceDir, ...store, ...opts.env } });
    started.push(s);
    return s;
  };
  const stop = async () => {
    await Promise.all(started.reverse().map((s) => s.stop()));
  };
  try {
    const dataLoader = await launch('data-loader', opts.datasets.flatMap((d) => ['--dataset', d]));
    const [estimator, evaluator] = await Promise.all([
      launch('importance-estimator', [...storeArgs, '--data-loader', dataLoader.address]),
      launch('evaluator', [...storeArgs, '--data-loader', dataLoader.address]),
    ]);
    const trainer = await launch('trainer', [
      ...storeArgs,
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
