// Fuzz test: random and malformed requests to the random-estimator's ListMeasures and Estimate.
// Models are a tiny VGG-13: valid, NaN-poisoned, truncated, or with broken metadata.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { formatFuzzReport, FuzzValues, fuzzMethod, fuzzSeed, RawClient, runFuzz, tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, parseSafeTensors, serializeSafeTensors, type VggConfig } from '@flowprune/models';
import {
  EstimateRequest,
  EstimateResponse,
  ImportanceEstimatorServiceService as Svc,
  ListMeasuresRequest,
  ListMeasuresResponse,
  type ModelRef,
} from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';

const SEED = fuzzSeed(20260104);
const TINY: VggConfig = [4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M'];
let svc: LaunchedService;
let raw: RawClient;
let tiny: Buffer;

before(async () => {
  svc = await launchService({ name: 'random-estimator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', tempDir('rand-fuzz')] });
  raw = new RawClient(svc.address);
  await initBackend({ log: () => undefined });
  const m = Model.init(buildNetwork('vgg13', 10, TINY), 5);
  tiny = Buffer.from(m.toSafeTensors());
  m.dispose();
});

after(async () => {
  raw?.close();
  assert.equal(await svc?.stop(), 0);
});

function randomModel(v: FuzzValues): ModelRef | undefined {
  const r = v.int(9);
  if (r <= 3) return { safetensors: tiny };
  if (r === 4) return v.bool() ? undefined : { checkpoint: { runId: v.text(['20260101-000000-abcdef']), name: v.text(['init', '../../x']) } };
  if (r === 5) return { safetensors: v.bool() ? v.bytes(256) : tiny.subarray(0, v.int(tiny.length)) };
  const file = parseSafeTensors(tiny);
  if (r === 6) {
    const floats = [...file.tensors.values()].filter((x) => x.data instanceof Float32Array);
    const t = floats[v.int(floats.length)];
    (t.data as Float32Array)[v.int(t.data.length)] = v.pick([NaN, Infinity, -Infinity]);
  } else file.metadata[v.pick(['arch', 'num_classes', 'config'])] = v.pick(['{oops', '[1,2]', 'null', '{"a":"b"}', v.text(), String(v.uint32())]);
  return { safetensors: Buffer.from(serializeSafeTensors(file)) };
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
      measure: v.text(['random', 'random', 'random']),
      params: v.doubleMap(['seed']),
      dataset: v.maybe(() => ({ name: v.text() }), 0.2),
      batches: [],
      initModel: v.maybe(() => randomModel(v), 0.2),
      seed: v.uint64(),
      epoch: v.uint32(),
      layers: [],
    }),
    encode: (r) => EstimateRequest.encode(r).finish(),
    valid: { measure: 'random', params: {}, batches: [], seed: 0, epoch: 0, layers: [] },
    decodeReply: (b) => EstimateResponse.decode(b),
  }),
];

test(`the random-estimator survives random and malformed requests (seed ${SEED})`, async () => {
  methods[1].validRequest = Buffer.from(EstimateRequest.encode({ model: { safetensors: tiny }, measure: 'random', params: { seed: 3 }, batches: [], seed: 0, epoch: 0, layers: [] }).finish());
  const report = await runFuzz({ client: raw, methods, values: new FuzzValues(mulberry32(SEED)), structured: 600, malformed: 210, concurrency: 8 });
  console.log(formatFuzzReport('random-estimator', SEED, report));
  assert.deepEqual(report.problems, [], `replay with FLOWPRUNE_FUZZ_SEED=${SEED}`);
  const codes = report.byMethod[Svc.estimate.path].codes;
  assert.ok((codes['OK'] ?? 0) > 0 && (codes['INVALID_ARGUMENT'] ?? 0) > 0, `Estimate saw both good and bad requests: ${JSON.stringify(codes)}`);

  assert.equal(svc.child.exitCode, null, 'the process is alive');
  assert.ok(await raw.serving(), 'health check SERVING');
  for (const m of methods) assert.equal((await raw.call(m.path, m.validRequest, false)).code, 0, `${m.path} still works`);
});
