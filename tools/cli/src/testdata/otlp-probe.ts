// A process that uses telemetry as a service does (see telemetry-otlp.test.ts): a traced unary call
// and a server stream over real gRPC, a metric, then a natural exit, which must flush everything.
import './otlp-probe-telemetry.js';
import { call, makeClient, serverStream, startServer, streamImageBatches, testSplitRequest, unary } from '@flowprune/grpc';
import { DataLoaderServiceClient, DataLoaderServiceService, type DataLoaderServiceServer, type DescribeResponse, type StreamBatchesResponse } from '@flowprune/proto';
import { inSpan, runInContext, trainingMetrics, withRunId } from '@flowprune/telemetry';

const describe: DescribeResponse = {
  name: 'probe',
  format: 'cifar10-binary',
  numClasses: 10,
  classNames: [],
  trainSize: 1,
  testSize: 1,
  height: 32,
  width: 32,
  channels: 3,
  trainClassCounts: [],
  testClassCounts: [],
  conversion: '',
};
const impl: Pick<DataLoaderServiceServer, 'describe' | 'streamBatches'> = {
  describe: unary(async () => describe),
  streamBatches: serverStream(async function* (): AsyncGenerator<StreamBatchesResponse> {
    for (let index = 0; index < 3; index++)
      yield { batch: { index, count: 1, height: 32, width: 32, channels: 3, pixels: Buffer.alloc(3072), labels: [0], sampleIndices: [index] }, totalBatches: 3 };
  }),
};
const server = await startServer({
  address: '127.0.0.1:0',
  services: [{ name: 'flowprune.v1.DataLoaderService', definition: DataLoaderServiceService, implementation: impl }],
});
const client = makeClient(DataLoaderServiceClient, server.address);
await inSpan(
  'otlp probe',
  {},
  () =>
    runInContext(withRunId('20261124-000000-0a0b0c'), async () => {
      await call(client, client.describe, { dataset: { name: 'probe' } });
      let n = 0;
      for await (const b of streamImageBatches(client, testSplitRequest('probe', 1))) n += b.count;
      trainingMetrics().images.add(n + 4);
    }),
  { root: true },
);
client.close();
await server.shutdown(1000);
