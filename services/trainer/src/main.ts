// flowprune-trainer: owns runs — training, prune rounds through the estimators, fine-tuning.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command } from 'commander';
import {
  addDependencyTimeoutOption,
  addMessageLimitOption,
  addTlsOptions,
  applyDependencyTimeout,
  makeClient,
  messageBytesFromMb,
  runServiceProcess,
  serviceTls,
  type DependencyTimeoutFlags,
  type MessageLimitFlags,
  type TlsFlags,
} from '@flowprune/grpc';
import { DataLoaderServiceClient, EvaluatorServiceClient, TrainerServiceService } from '@flowprune/proto';
import { openRunStore, runStoreOption } from '@flowprune/store';
import { setComputeBackend } from '@flowprune/telemetry';
import { initBackend } from '@flowprune/tensor';
import { EstimatorRegistry } from './estimator-registry.js';
import { RunManager } from './run-manager.js';
import { makeTrainerService } from './trainer-service.js';

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
  .addOption(runStoreOption('run store: a directory (embedded) or a mongodb:// URI', process.env.FLOWPRUNE_STORE ?? 'runs'));
const opts = addDependencyTimeoutOption(addMessageLimitOption(addTlsOptions(program)))
  .parse()
  .opts<{ address: string; dataLoader: string; evaluator: string; estimator: string[]; store: string } & TlsFlags & MessageLimitFlags & DependencyTimeoutFlags>();
applyDependencyTimeout(opts);
const tls = serviceTls('flowprune-trainer', opts);

const backend = await initBackend();
setComputeBackend(backend.name);
const runs = new RunManager({
  store: openRunStore(opts.store),
  dataLoader: makeClient(DataLoaderServiceClient, opts.dataLoader, tls),
  evaluator: makeClient(EvaluatorServiceClient, opts.evaluator, tls),
  estimators: new EstimatorRegistry(opts.estimator, tls),
  backend: backend.name,
});
await runServiceProcess({
  name: 'trainer',
  address: opts.address,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  tls,
  services: [{ name: 'flowprune.v1.TrainerService', definition: TrainerServiceService, implementation: makeTrainerService(runs) }],
  beforeShutdown: () => runs.drain(),
});
