// Fuzz test: random and malformed Evaluate requests to a real evaluator process (reading a real
// data-loader). Models are a tiny VGG-13: valid, NaN-poisoned, truncated, or with broken metadata.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { launchService, type LaunchedService } from '@flowprune/grpc';
import { formatFuzzReport, FuzzValues, fuzzMethod, fuzzSeed, RawClient, runFuzz, tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, parseSafeTensors, serializeSafeTensors, type VggConfig } from '@flowprune/models';
import { EvaluateRequest, EvaluateResponse, EvaluatorServiceService as Svc, Split, type ModelRef } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';

const SEED = fuzzSeed(20260103);
const TINY: VggConfig = [4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M', 4, 4, 'M'];
const procs: LaunchedService[] = [];
let raw: RawClient;
let tiny: Buffer;

before(async () => {
  const dir = tempDir('eval-fuzz');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 2, testPerClass: 2, seed: 5 });
  const loader = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, '../../data-loader/src/main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  procs.push(await launchService({ name: 'evaluator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', join(dir, 'runs'), '--data-loader', loader.address] }));
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
  } else file.metadata[v.pick(['arch', 'num_classes', 'config', 'masks'])] = v.pick(['{oops', '[1,2]', 'null', '{"a":"b"}', v.text(), String(v.uint32())]);
  return { safetensors: Buffer.from(serializeSafeTensors(file)) };
}

const valid: EvaluateRequest = { model: undefined, dataset: { name: 'syn' }, split: Split.SPLIT_TEST, batchSize: 8, temperature: 5, maxSamples: 0 };
const methods = [
  fuzzMethod<EvaluateRequest>({
    path: Svc.evaluate.path,
    streaming: false,
    generate: (v) => ({
      model: randomModel(v),
      dataset: v.maybe(() => ({ name: v.text(['syn']) }), 0.9),
      split: v.enumValue(Split),
      batchSize: v.uint32(),
      temperature: v.double(),
      maxSamples: v.uint32(),
    }),
    encode: (r) => EvaluateRequest.encode(r).finish(),
    valid,
    decodeReply: (b) => EvaluateResponse.decode(b),
  }),
];

test(`EvaluatorService survives random and malformed requests (seed ${SEED})`, async () => {
  methods[0].validRequest = Buffer.from(EvaluateRequest.encode({ ...valid, model: { safetensors: tiny } }).finish());
  const report = await runFuzz({ client: raw, methods, values: new FuzzValues(mulberry32(SEED)), structured: 600, malformed: 210, concurrency: 4 });
  console.log(formatFuzzReport('evaluator', SEED, report));
  assert.deepEqual(report.problems, [], `replay with FLOWPRUNE_FUZZ_SEED=${SEED}`);
  const codes = report.byMethod[Svc.evaluate.path].codes;
  assert.ok((codes['OK'] ?? 0) > 0 && (codes['INVALID_ARGUMENT'] ?? 0) > 0, `Evaluate saw both good and bad requests: ${JSON.stringify(codes)}`);

  assert.equal(procs[1].child.exitCode, null, 'the process is alive');
  assert.ok(await raw.serving(), 'health check SERVING');
  const r = await raw.call(methods[0].path, methods[0].validRequest, false);
  assert.equal(r.code, 0, `Evaluate still works: ${r.details}`);
  assert.equal(EvaluateResponse.decode(r.messages[0]).samples, 20);
});
