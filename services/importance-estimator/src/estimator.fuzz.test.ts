// Fuzz test: random and malformed requests to ImportanceEstimatorService (ListMeasures, Estimate) of a
// real process reading a real data-loader. Random models are a tiny VGG-13 (valid, NaN-poisoned,
// with broken metadata, truncated) so that valid requests compute in milliseconds.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { formatFuzzReport, FuzzValues, fuzzMethod, fuzzSeed, RawClient, runFuzz, tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, parseSafeTensors, serializeSafeTensors, type VggConfig } from '@flowprune/models';
import {
  EstimateRequest,
  EstimateResponse,
  ImportanceEstimatorServiceService as Svc,
  ListMeasuresRequest,
  ListMeasuresResponse,
  type ImageBatch,
  type ModelRef,
} from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';

const SEED = fuzzSeed(20260102);
const TINY: VggConfig = [4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M'];
const MEASURES = ['mag_based', 'l1', 'bn', 'loss_based', 'biased_loss', 'biased_loss_init', 'tfo', 'fisher', 'nvidia', 'grasp', 'grad_preserve', 'random'];
const PARAMS = ['T', 'imp_samples', 'batch_size', 'exact_decisions', 'grasp_T', 'grad_preserve_T', 'seed'];
const procs: LaunchedService[] = [];
let raw: RawClient;
let tiny: Buffer;

before(async () => {
  const dir = tempDir('est-fuzz');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 3, testPerClass: 1, seed: 4 });
  const loader = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, '../../data-loader/src/main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  procs.push(await launchService({ name: 'importance-estimator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', join(dir, 'runs'), '--data-loader', loader.address] }));
  raw = new RawClient(procs[1].address);
  await initBackend({ log: () => undefined });
  const m = Model.init(buildNetwork('vgg13', 10, TINY), 5);
  tiny = Buffer.from(m.toSafeTensors());
  m.dispose();
});

after(async () => {
  raw?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.deepEqual(codes, [0, 0]);
});

/** Model bytes of every kind a caller might send. */
function randomModel(v: FuzzValues): ModelRef | undefined {
  const r = v.int(9);
  if (r <= 2) return { safetensors: tiny };
  if (r === 3) return undefined;
  if (r === 4) return { checkpoint: { runId: v.text(['20260101-000000-abcdef']), name: v.text(['init']) } };
  if (r === 5) return { safetensors: v.bool() ? v.bytes(256) : tiny.subarray(0, v.int(tiny.length)) };
  const file = parseSafeTensors(tiny);
  if (r === 6) {
    const floats = [...file.tensors.values()].filter((x) => x.data instanceof Float32Array);
    const t = floats[v.int(floats.length)];
    (t.data as Float32Array)[v.int(t.data.length)] = v.pick([NaN, Infinity, -Infinity]);
  } else {
    const key = v.pick(['arch', 'num_classes', 'config', 'masks']);
    file.metadata[key] = v.pick(['{oops', '[1,2]', '"x"', 'null', '{"a":"b"}', v.text(), String(v.uint32()), '[4,"M",4]']);
  }
  return { safetensors: Buffer.from(serializeSafeTensors(file)) };
}

function randomBatch(v: FuzzValues): ImageBatch {
  const good = v.bool(0.5);
  const count = good ? 1 + v.int(3) : v.uint32() % 5000;
  return {
    index: v.uint32(),
    count,
    height: good ? 32 : v.uint32(),
    width: good ? 32 : v.uint32(),
    channels: good ? 3 : v.uint32(),
    pixels: good ? Buffer.alloc(count * 3072, v.int(256)) : v.bytes(8192),
    labels: good ? Array.from({ length: count }, () => v.int(10)) : v.array(() => v.uint32(), 6),
    sampleIndices: v.array(() => v.uint32(), 3),
  };
}

const methods = [
  fuzzMethod<ListMeasuresRequest>({
    path: Svc.listMeasures.path,
    streaming: false,
    generate: () => ({}),
    encode: (r) => ListMeasuresRequest.encode(r).finish(),
    valid: {},
    decodeReply: (b) => ListMeasuresResponse.decode(b),
  }),
  fuzzMethod<EstimateRequest>({
    path: Svc.estimate.path,
    streaming: false,
    generate: (v) => ({
      model: randomModel(v),
      measure: v.text(MEASURES),
      params: v.doubleMap(PARAMS),
      dataset: v.maybe(() => ({ name: v.text(['syn']) }), 0.5),
      batches: v.bool(0.3) ? v.array(() => randomBatch(v), 3) : [],
      initModel: v.maybe(() => randomModel(v), 0.3),
      seed: v.uint64(),
      epoch: v.uint32(),
      layers: [],
    }),
    encode: (r) => EstimateRequest.encode(r).finish(),
    valid: { model: { safetensors: Buffer.alloc(0) }, measure: 'mag_based', params: {}, batches: [], seed: 0, epoch: 0, layers: [] },
    decodeReply: (b) => EstimateResponse.decode(b),
  }),
];

test(`every ImportanceEstimatorService method survives random and malformed requests (seed ${SEED})`, async () => {
  // The valid request needs the model built in before(): patch it in now.
  const estimate = methods[1];
  estimate.validRequest = Buffer.from(EstimateRequest.encode({ model: { safetensors: tiny }, measure: 'mag_based', params: {}, batches: [], seed: 0, epoch: 0, layers: [] }).finish());
  const report = await runFuzz({ client: raw, methods, values: new FuzzValues(mulberry32(SEED)), structured: 600, malformed: 210, concurrency: 4 });
  console.log(formatFuzzReport('importance-estimator', SEED, report));
  assert.deepEqual(report.problems, [], `replay with FLOWPRUNE_FUZZ_SEED=${SEED}`);
  const codes = report.byMethod[Svc.estimate.path].codes;
  assert.ok((codes['OK'] ?? 0) > 0 && (codes['INVALID_ARGUMENT'] ?? 0) > 0, `Estimate saw both good and bad requests: ${JSON.stringify(codes)}`);

  assert.equal(procs[1].child.exitCode, null, 'the process is alive');
  assert.ok(await raw.serving(), 'health check SERVING');
  for (const m of methods) {
    const r = await raw.call(m.path, m.validRequest, m.streaming);
    assert.equal(r.code, 0, `${m.path} still works: ${r.details}`);
  }
});
