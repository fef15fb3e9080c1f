// Fuzz test: random and malformed requests to every DataLoaderService method of a real process.
// Every reply must be a proper status; afterwards the process is alive, SERVING, and serves.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { formatFuzzReport, FuzzValues, fuzzMethod, fuzzSeed, RawClient, runFuzz, tempDir } from '@flowprune/grpc/testing';
import {
  DataLoaderServiceService as Svc,
  DescribeRequest,
  DescribeResponse,
  SampleBalancedRequest,
  SampleBalancedResponse,
  Split,
  StreamBatchesRequest,
  StreamBatchesResponse,
} from '@flowprune/proto';

const SEED = fuzzSeed(20260101);
const DATASETS = ['syn'];
let svc: LaunchedService;
let raw: RawClient;

before(async () => {
  const dir = tempDir('dl-fuzz');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 6, testPerClass: 2, seed: 3 });
  svc = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, 'main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  raw = new RawClient(svc.address);
});

after(async () => {
  raw?.close();
  assert.equal(await svc?.stop(), 0, 'data-loader exits 0 on SIGTERM');
});

const dataset = (v: FuzzValues) => v.maybe(() => ({ name: v.text(DATASETS) }), 0.9);

const methods = [
  fuzzMethod<DescribeRequest>({
    path: Svc.describe.path,
    streaming: false,
    generate: (v) => ({ dataset: dataset(v) }),
    encode: (r) => DescribeRequest.encode(r).finish(),
    valid: { dataset: { name: 'syn' } },
    decodeReply: (b) => DescribeResponse.decode(b),
  }),
  fuzzMethod<StreamBatchesRequest>({
    path: Svc.streamBatches.path,
    streaming: true,
    generate: (v) => ({
      dataset: dataset(v),
      split: v.enumValue(Split),
      batchSize: v.uint32(),
      seed: v.uint64(),
      epoch: v.uint32(),
      shuffle: v.bool(),
      augment: v.bool(),
      shardIndex: v.uint32(),
      shardCount: v.uint32(),
      maxSamples: v.uint32(),
    }),
    encode: (r) => StreamBatchesRequest.encode(r).finish(),
    valid: { dataset: { name: 'syn' }, split: Split.SPLIT_TRAIN, batchSize: 16, seed: 1, epoch: 0, shuffle: true, augment: true, shardIndex: 0, shardCount: 1, maxSamples: 0 },
    decodeReply: (b) => StreamBatchesResponse.decode(b),
  }),
  fuzzMethod<SampleBalancedRequest>({
    path: Svc.sampleBalanced.path,
    streaming: false,
    generate: (v) => ({
      dataset: dataset(v),
      split: v.enumValue(Split),
      perClass: v.uint32(),
      seed: v.uint64(),
      epoch: v.uint32(),
      shuffle: v.bool(),
      augment: v.bool(),
    }),
    encode: (r) => SampleBalancedRequest.encode(r).finish(),
    valid: { dataset: { name: 'syn' }, split: Split.SPLIT_TRAIN, perClass: 2, seed: 0, epoch: 0, shuffle: true, augment: false },
    decodeReply: (b) => SampleBalancedResponse.decode(b),
  }),
];

test(`every DataLoaderService method survives random and malformed requests (seed ${SEED})`, async () => {
  const report = await runFuzz({ client: raw, methods, values: new FuzzValues(mulberry32(SEED)), structured: 400, malformed: 210, concurrency: 8 });
  console.log(formatFuzzReport('data-loader', SEED, report));
  assert.deepEqual(report.problems, [], `replay with FLOWPRUNE_FUZZ_SEED=${SEED}`);
  for (const [path, c] of Object.entries(report.byMethod)) assert.ok((c.codes['OK'] ?? 0) > 0 && (c.codes['INVALID_ARGUMENT'] ?? 0) > 0, `${path} saw both good and bad requests: ${JSON.stringify(c.codes)}`);

  assert.equal(svc.child.exitCode, null, 'the process is alive');
  assert.ok(await raw.serving(), 'health check SERVING');
  for (const m of methods) {
    const r = await raw.call(m.path, m.validRequest, m.streaming);
    assert.equal(r.code, 0, `${m.path} still works: ${r.details}`);
    assert.ok(r.messages.length > 0);
  }
});
