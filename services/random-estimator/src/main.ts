// flowprune-random-estimator: the random-ranking baseline as its own estimator service.
import { Command } from 'commander';
import { addMessageLimitOption, addTlsOptions, messageBytesFromMb, runServiceProcess, serviceTls, type MessageLimitFlags, type TlsFlags } from '@flowprune/grpc';
import { ImportanceEstimatorServiceService } from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';
import { makeRandomEstimatorService } from './random-service.js';

const program = new Command('flowprune-random-estimator')
  .description('The random-ranking baseline measure over gRPC (flowprune.v1.ImportanceEstimatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_RANDOM_ESTIMATOR_ADDRESS ?? '127.0.0.1:50055')
  .option('--store <dir>', 'embedded run store directory (for checkpoint references)', process.env.FLOWPRUNE_RUNS_DIR ?? 'runs');
const opts = addMessageLimitOption(addTlsOptions(program))
  .parse()
  .opts<{ address: string; store: string } & TlsFlags & MessageLimitFlags>();
const tls = serviceTls('flowprune-random-estimator', opts);

await runServiceProcess({
  name: 'random-estimator',
  address: opts.address,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  tls,
  services: [
    {
      name: 'flowprune.v1.ImportanceEstimatorService',
      definition: ImportanceEstimatorServiceService,
      implementation: makeRandomEstimatorService({ store: new FileRunStore({ root: opts.store }) }),
    },
  ],
});
