// flowprune-importance-estimator: the paper's filter-importance measures as a service.
import { Command } from 'commander';
import { runServiceProcess } from '@flowprune/grpc';
import { ImportanceEstimatorServiceService } from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';
import { initBackend } from '@flowprune/tensor';
import { makeEstimatorService } from './estimator-service.js';

const opts = new Command('flowprune-importance-estimator')
  .description('Computes filter-importance measures over gRPC (flowprune.v1.ImportanceEstimatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_ESTIMATOR_ADDRESS ?? '127.0.0.1:50053')
  .option('--store <dir>', 'embedded run store directory', process.env.FLOWPRUNE_RUNS_DIR ?? 'runs')
  .parse()
  .opts<{ address: string; store: string }>();

const backend = await initBackend();
await runServiceProcess({
  name: 'importance-estimator',
  address: opts.address,
  services: [
    {
      name: 'flowprune.v1.ImportanceEstimatorService',
      definition: ImportanceEstimatorServiceService,
      implementation: makeEstimatorService({ store: new FileRunStore({ root: opts.store }), backend: backend.name }),
    },
  ],
});
