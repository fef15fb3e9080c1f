// flowprune-data-loader: serves the datasets named on the command line.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command } from 'commander';
import { DatasetRegistry, parseDatasetSpecs } from '@flowprune/data';
import { addMessageLimitOption, addTlsOptions, messageBytesFromMb, runServiceProcess, serviceTls, type MessageLimitFlags, type TlsFlags } from '@flowprune/grpc';
import { DataLoaderServiceService } from '@flowprune/proto';
import { makeDataLoaderService } from './data-loader-service.js';

const program = new Command('flowprune-data-loader')
  .description('Streams reproducible CIFAR batches over gRPC (flowprune.v1.DataLoaderService)')
  .option('--address <host:port>', 'listen address', process.env.FLOWPRUNE_DATA_LOADER_ADDRESS ?? '127.0.0.1:50051')
  .option('--dataset <name=dir...>', 'a dataset root to serve (repeatable), e.g. cifar10=./data/cifar-10-batches-bin', []);
const opts = addMessageLimitOption(addTlsOptions(program))
  .parse()
  .opts<{ address: string; dataset: string[] } & TlsFlags & MessageLimitFlags>();
const tls = serviceTls('flowprune-data-loader', opts);

const registry = new DatasetRegistry(parseDatasetSpecs(opts.dataset));
await runServiceProcess({
  name: 'data-loader',
  address: opts.address,
  maxMessageBytes: messageBytesFromMb(opts.maxMessageMb),
  tls,
  services: [{ name: 'flowprune.v1.DataLoaderService', definition: DataLoaderServiceService, implementation: makeDataLoaderService(registry) }],
});
