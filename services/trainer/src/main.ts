// flowprune-trainer: owns runs — training, prune rounds through the estimators, fine-tuning.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command, Option } from 'commander';
import {
  addDependencyTimeoutOption,
  addMessageLimitOption,
  addTlsOptions,
  applyDependencyTimeout,
  makeClient,
  messageBytesFromMb,
  positiveSecondsMs,
  runServiceProcess,
  serviceTls,
  type DependencyTimeoutFlags,
  type MessageLimitFlags,
  type TlsFlags,
} from '@flowprune/grpc';
import { DataLoaderServiceClient, EvaluatorServiceClient, TrainerServiceService } from '@flowprune/proto';
import { redactUri } from '@flowprune/common';
import { openRunStore } from '@flowprune/store';
import { setComputeBackend } from '@flowprune/telemetry';
import { initBackend } from '@flowprune/tensor';
import { EstimatorRegistry } from './estimator-registry.js';
import { defaultQueueOptions, RunManager } from './run-manager.js';
import { makeTrainerService } from './trainer-service.js';

// The store's default may be a MongoDB URI with a password: --help shows it masked.
const storeDefault = process.env.FLOWPRUNE_STORE ?? 'runs';
const program = new Command('flowprune-trainer')
  .description('Runs the prune-while-training pipeline over gRPC (flowprune.v1.TrainerService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_TRAINER_ADDRESS ?? '127.0.0.1:50052')
  .option('--data-loader <host:port>', 'data-loader address', process.env.FLOWPRUNE_DATA_LOADER_ADDRESS ?? '127.0.0.1:50051')
  .option('--evaluator <host:port>', 'evaluator address', process.env.FLOWPRUNE_EVALUATOR_ADDRESS ?? '127.0.0.1:50054')
  .option(
    '--estimator <host:port...>',
    'importance-estimator addresses, in priority order (measures are resolved by ListMeasures)',
    (process.env.FLOWPRUNE_ESTIMATORS ?? '127.0.0.1:50053').split(','),
  )
  .addOption(new Option('--store <dir|mongodb-uri>', 'run store: a directory (embedded) or a mongodb:// URI').default(storeDefault, JSON.stringify(redactUri(storeDefault))))
  .option('--max-runs <n>', 'runs this trainer works on at once (one per GPU or CPU machine) [FLOWPRUNE_MAX_RUNS]', process.env.FLOWPRUNE_MAX_RUNS ?? '1')
  .option('--lease <seconds>', "a run whose trainer has not renewed its lease for this long is taken over by another [FLOWPRUNE_LEASE_S]", process.env.FLOWPRUNE_LEASE_S ?? '30')
  .option('--renew <seconds>', 'how often held leases are renewed [FLOWPRUNE_LEASE_RENEW_S] (default: a third of --lease)', process.env.FLOWPRUNE_LEASE_RENEW_S)
  .option('--poll <seconds>', 'how often an idle trainer looks for queued runs [FLOWPRUNE_QUEUE_POLL_S]', process.env.FLOWPRUNE_QUEUE_POLL_S ?? '1')
  .option('--trainer-id <id>', 'this trainer in leases and `flowprune runs ls` [FLOWPRUNE_TRAINER_ID] (default host:pid)', process.env.FLOWPRUNE_TRAINER_ID);
const opts = addDependencyTimeoutOption(addMessageLimitOption(addTlsOptions(program)))
  .parse()
  .opts<
    { address: string; dataLoader: string; evaluator: string; estimator: string[]; store: string; maxRuns: string; lease: string; renew?: string; poll: string; trainerId?: string } & TlsFlags &
      MessageLimitFlags &
      DependencyTimeoutFlags
  >();
applyDependencyTimeout(opts);
const maxRuns = Number(opts.maxRuns);
if (!Number.isInteger(maxRuns) || maxRuns < 1) program.error(`flowprune-trainer: --max-runs must be a positive integer, got "${opts.maxRuns}"`);
let queue;
try {
  const leaseMs = positiveSecondsMs('--lease', opts.lease);
  const renewMs = opts.renew === undefined ? leaseMs / 3 : positiveSecondsMs('--renew', opts.renew);
  if (renewMs >= leaseMs) throw new Error(`--renew (${renewMs / 1000} s) must be shorter than --lease (${leaseMs / 1000} s)`);
  queue = { ...defaultQueueOptions(), maxRuns, leaseMs, renewMs, pollMs: positiveSecondsMs('--poll', opts.poll), ...(opts.trainerId ? { holder: opts.trainerId } : {}) };
} catch (e) {
  program.error(`flowprune-trainer: ${(e as Error).message}`);
}
const tls = serviceTls('flowprune-trainer', opts);

const backend = await initBackend();
setComputeBackend(backend.name);
const runs = new RunManager({
  store: openRunStore(opts.store),
  dataLoader: makeClient(DataLoaderServiceClient, opts.dataLoader, tls),
  evaluator: makeClient(EvaluatorServiceClient, opts.evaluator, tls),
  estimators: new EstimatorRegistry(opts.estimator, tls),
  backend: backend.name,
}, queue);
await runServiceProcess({
  name: 'trainer',
  address: opts.address,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  tls,
  services: [{ name: 'flowprune.v1.TrainerService', definition: TrainerServiceService, implementation: makeTrainerService(runs) }],
  beforeShutdown: () => runs.drain(),
});
runs.startClaiming();
