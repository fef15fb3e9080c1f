// flowprune-importance-estimator: the paper's filter-importance measures as a service.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command } from 'commander';
import { addTlsOptions, makeClient, runServiceProcess, serviceTls, type TlsFlags } from '@flowprune/grpc';
import { DataLoaderServiceClient, ImportanceEstimatorServiceService } from '@flowprune/proto';
import { openRunStore } from '@flowprune/store';
import { setComputeBackend } from '@flowprune/telemetry';
import { initBackend } from '@flowprune/tensor';
import { makeEstimatorService } from './estimator-service.js';

const program = new Command('flowprune-importance-estimator')
  .description('Computes filter-importance measures over gRPC (flowprune.v1.ImportanceEstimatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_ESTIMATOR_ADDRESS ?? '127.0.0.1:50053')
  .option('--store <dir|mongodb-uri>', 'run store to read checkpoints from: a directory (embedded) or a mongodb:// URI', process.env.FLOWPRUNE_STORE ?? process.env.FLOWPRUNE_RUNS_DIR ?? 'runs')
  .option(
    '--data-loader <host:port>',
    'data-loader for requests that name a dataset (inline batches need none)',
    process.env.FLOWPRUNE_DATA_LOADER_ADDRESS ?? '127.0.0.1:50051',
  );
const opts = addTlsOptions(program)
  .parse()
  .opts<{ address: string; store: string; dataLoader: string } & TlsFlags>();
const tls = serviceTls('flowprune-importance-estimator', opts);

const backend = await initBackend();
setComputeBackend(backend.name);
await runServiceProcess({
  name: 'importance-estimator',
  address: opts.address,
  tls,
  services: [
    {
      name: 'flowprune.v1.ImportanceEstimatorService',
      definition: ImportanceEstimatorServiceService,
      implementation: makeEstimatorService({
        store: openRunStore(opts.store),
        backend: backend.name,
        dataLoader: makeClient(DataLoaderServiceClient, opts.dataLoader, tls),
      }),
    },
  ],
});
