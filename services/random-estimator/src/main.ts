// flowprune-random-estimator: the random-ranking baseline as its own estimator service.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command, Option } from 'commander';
import { addMessageLimitOption, addTlsOptions, messageBytesFromMb, runServiceProcess, serviceTls, type MessageLimitFlags, type TlsFlags } from '@flowprune/grpc';
import { ImportanceEstimatorServiceService } from '@flowprune/proto';
import { redactUri } from '@flowprune/common';
import { openRunStore } from '@flowprune/store';
import { makeRandomEstimatorService } from './random-service.js';

// The store's default may be a MongoDB URI with a password: --help shows it masked.
const storeDefault = process.env.FLOWPRUNE_STORE ?? '';
const program = new Command('flowprune-random-estimator')
  .description('The random-ranking baseline measure over gRPC (flowprune.v1.ImportanceEstimatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_RANDOM_ESTIMATOR_ADDRESS ?? '127.0.0.1:50055')
  .addOption(
    new Option(
      '--store <dir|mongodb-uri>',
      'run store (a directory or a mongodb:// URI) to read checkpoint references from; empty: none, models come as safetensors bytes (what trainers send)',
    ).default(storeDefault, JSON.stringify(redactUri(storeDefault))),
  );
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
      implementation: makeRandomEstimatorService({ store: opts.store ? openRunStore(opts.store) : undefined }),
    },
  ],
});
