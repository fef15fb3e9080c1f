// flowprune-importance-estimator: the paper's filter-importance measures as a service.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command, Option } from 'commander';
import { addMessageLimitOption, addTlsOptions, makeClient, messageBytesFromMb, runServiceProcess, serviceTls, type MessageLimitFlags, type TlsFlags } from '@flowprune/grpc';
import { DataLoaderServiceClient, GradientFlowServiceService, ImportanceEstimatorServiceService } from '@flowprune/proto';
import { redactUri } from '@flowprune/common';
import { openRunStore } from '@flowprune/store';
import { setComputeBackend } from '@flowprune/telemetry';
import { initBackend } from '@flowprune/tensor';
import { DEFAULT_ESTIMATE_LIMITS, makeEstimatorService, type EstimatorDeps } from './estimator-service.js';
import { makeGradientFlowService } from './gradient-flow-service.js';

// The store's default may be a MongoDB URI with a password: --help shows it masked.
const storeDefault = process.env.FLOWPRUNE_STORE ?? process.env.FLOWPRUNE_RUNS_DIR ?? 'runs';
const program = new Command('flowprune-importance-estimator')
  .description('Computes filter-importance measures over gRPC (flowprune.v1.ImportanceEstimatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_ESTIMATOR_ADDRESS ?? '127.0.0.1:50053')
  .addOption(new Option('--store <dir|mongodb-uri>', 'run store to read checkpoints from: a directory (embedded) or a mongodb:// URI').default(storeDefault, JSON.stringify(redactUri(storeDefault))))
  .option(
    '--data-loader <host:port>',
    'data-loader for requests that name a dataset (inline batches need none)',
    process.env.FLOWPRUNE_DATA_LOADER_ADDRESS ?? '127.0.0.1:50051',
  )
  .option('--max-concurrent <n>', 'Estimate calls computing at once', Number, Number(process.env.FLOWPRUNE_ESTIMATOR_MAX_CONCURRENT ?? DEFAULT_ESTIMATE_LIMITS.concurrency))
  .option('--max-queued <n>', 'Estimate calls waiting for a slot; more are refused with RESOURCE_EXHAUSTED', Number, Number(process.env.FLOWPRUNE_ESTIMATOR_MAX_QUEUED ?? DEFAULT_ESTIMATE_LIMITS.queueLength));
const opts = addMessageLimitOption(addTlsOptions(program))
  .parse()
  .opts<{ address: string; store: string; dataLoader: string; maxConcurrent: number; maxQueued: number } & TlsFlags & MessageLimitFlags>();
const tls = serviceTls('flowprune-importance-estimator', opts);

const backend = await initBackend();
setComputeBackend(backend.name);
const deps: EstimatorDeps = {
  store: openRunStore(opts.store),
  backend: backend.name,
  dataLoader: makeClient(DataLoaderServiceClient, opts.dataLoader, tls),
  admission: { concurrency: opts.maxConcurrent, queueLength: opts.maxQueued },
};
await runServiceProcess({
  name: 'importance-estimator',
  address: opts.address,
  tls,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  services: [
    {
      name: 'flowprune.v1.ImportanceEstimatorService',
      definition: ImportanceEstimatorServiceService,
      implementation: makeEstimatorService(deps),
    },
    // The paper's gradient-flow quantities, from the same ḡ and Hḡ code paths as loss_based and grasp.
    { name: 'flowprune.v1.GradientFlowService', definition: GradientFlowServiceService, implementation: makeGradientFlowService(deps) },
  ],
});
