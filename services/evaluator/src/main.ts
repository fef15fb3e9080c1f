// flowprune-evaluator: accuracy, loss, FLOPs, parameters and compression of stored checkpoints.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command, Option } from 'commander';
import { addMessageLimitOption, addTlsOptions, makeClient, messageBytesFromMb, runServiceProcess, serviceTls, type MessageLimitFlags, type TlsFlags } from '@flowprune/grpc';
import { DataLoaderServiceClient, EvaluatorServiceService } from '@flowprune/proto';
import { redactUri } from '@flowprune/common';
import { openRunStore } from '@flowprune/store';
import { setComputeBackend } from '@flowprune/telemetry';
import { initBackend } from '@flowprune/tensor';
import { makeEvaluatorService } from './evaluator-service.js';

// The store's default may be a MongoDB URI with a password: --help shows it masked.
const storeDefault = process.env.FLOWPRUNE_STORE ?? 'runs';
const program = new Command('flowprune-evaluator')
  .description('Evaluates (pruned) checkpoints over gRPC (flowprune.v1.EvaluatorService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_EVALUATOR_ADDRESS ?? '127.0.0.1:50054')
  .option('--data-loader <host:port>', 'data-loader address', process.env.FLOWPRUNE_DATA_LOADER_ADDRESS ?? '127.0.0.1:50051')
  .addOption(new Option('--store <dir|mongodb-uri>', 'run store: a directory (embedded) or a mongodb:// URI').default(storeDefault, JSON.stringify(redactUri(storeDefault))));
const opts = addMessageLimitOption(addTlsOptions(program))
  .parse()
  .opts<{ address: string; dataLoader: string; store: string } & TlsFlags & MessageLimitFlags>();
const tls = serviceTls('flowprune-evaluator', opts);

const backend = await initBackend();
setComputeBackend(backend.name);
await runServiceProcess({
  name: 'evaluator',
  address: opts.address,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  tls,
  services: [
    {
      name: 'flowprune.v1.EvaluatorService',
      definition: EvaluatorServiceService,
      implementation: makeEvaluatorService({
        store: openRunStore(opts.store),
        dataLoader: makeClient(DataLoaderServiceClient, opts.dataLoader, tls),
        backend: backend.name,
      }),
    },
  ],
});
