// Contract test: the generated client against real evaluator and data-loader processes.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureRoot, readFixtureExpected } from '@flowprune/common/testing';
import { status, type ServiceError } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, countFlops, countParameters, Model } from '@flowprune/models';
import { nextPCumulative, originalWidths, pruneStep, thresholdRatios } from '@flowprune/pruning';
import { EvaluatorServiceClient, Split } from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';
import { initBackend } from '@flowprune/tensor';

let loader: LaunchedService;
let svc: LaunchedService;
let client: EvaluatorServiceClient;
let store: FileRunStore;
let runId: string;

before(async () => {
  const dir = tempDir('eval');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 2, testPerClass: 3, seed: 5 });
  loader = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, '../../data-loader/src/main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  svc = await launchService({ name: 'evaluator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', join(dir, 'runs'), '--data-loader', loader.address] });
  client = makeClient(EvaluatorServiceClient, svc.address);
  await initBackend();
  store = new FileRunStore({ root: join(dir, 'runs') });
  runId = (await store.createRun({ spec: {}, model: 'resnet56', dataset: 'syn' })).id;
  const model = Model.init(buildNetwork('resnet56', 10), 1);
  await store.putCheckpoint(runId, 'init', model.toSafeTensors());
  model.dispose();
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0);
  await loader?.stop();
});

test('Evaluate a stored checkpoint: accuracy, loss, sizes', async () => {
  const r = await call(client, client.evaluate, { model: { checkpoint: { runId, name: 'init' } }, dataset: { name: 'syn' }, split: Split.SPLIT_TEST, batchSize: 16, temperature: 5, maxSamples: 0 });
  const net = buildNetwork('resnet56', 10);
  assert.equal(r.arch, 'resnet56');
  assert.equal(r.samples, 30);
  assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
  assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  assert.equal(r.flops, countFlops(net));
  assert.equal(r.parameters, countParameters(net));
  assert.equal(r.compressionRatio, 1);
  assert.deepEqual(r.layerChannels, net.filterLayers.map((l) => l.outChannels));
});

test('bad requests name the field; the service stays up', async () => {
  const base = { split: Split.SPLIT_TEST, batchSize: 16, temperature: 5, maxSamples: 0 };
  await assert.rejects(call(client, client.evaluate, { ...base, model: { checkpoint: { runId, name: 'init' } } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /dataset\.name/.test(e.details));
  await assert.rejects(call(client, client.evaluate, { ...base, dataset: { name: 'syn' }, model: { checkpoint: { runId, name: 'missing' } } }), (e: ServiceError) => e.code === status.NOT_FOUND && /missing/.test(e.details));
  await assert.rejects(call(client, client.evaluate, { ...base, temperature: -1, dataset: { name: 'syn' }, model: { checkpoint: { runId, name: 'init' } } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /temperature/.test(e.details));
  await assert.rejects(call(client, client.evaluate, { ...base, dataset: { name: 'other' }, model: { checkpoint: { runId, name: 'init' } } }), (e: ServiceError) => /unknown dataset "other"/.test(e.details));
  const r = await call(client, client.evaluate, { ...base, maxSamples: 16, dataset: { name: 'syn' }, model: { checkpoint: { runId, name: 'init' } } });
  assert.equal(r.samples, 16);
});

test('Evaluate measures latency in ONNX Runtime and on flowprune when asked; a bad latency request is named', async () => {
  const request = { model: { checkpoint: { runId, name: 'init' } }, dataset: { name: 'syn' }, split: Split.SPLIT_TEST, batchSize: 16, temperature: 5, maxSamples: 16 };
  const r = await call(client, client.evaluate, { ...request, latency: { batchSizes: [1, 4], runs: 2 } });
  assert.deepEqual(
    r.latency.map((l) => [l.engine, l.batchSize, l.runs]),
    [
      ['onnxruntime', 1, 2],
      ['onnxruntime', 4, 2],
      ['flowprune', 1, 2],
      ['flowprune', 4, 2],
    ],
  );
  for (const l of r.latency) assert.ok(l.p50Ms > 0 && l.p95Ms >= l.p50Ms && l.imagesPerSecond > 0, JSON.stringify(l));
  await assert.rejects(call(client, client.evaluate, { ...request, latency: { batchSizes: [0], runs: 2 } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /latency\.batch_sizes\[0\]/.test(e.details));
  assert.deepEqual((await call(client, client.evaluate, request)).latency, []);
});

const FIXTURES = fixtureRoot();

test('FLOPs, parameters and compression ratio of the fixture models equal the reference numbers', { skip: !existsSync(join(FIXTURES, 'README.md')) && 'no fixtures' }, async () => {
  for (const arch of ['vgg13', 'mobilenet_v1', 'resnet56']) {
    const e = readFixtureExpected(arch);
    const model = Model.fromSafeTensors(new Uint8Array(readFileSync(join(FIXTURES, arch, 'weights.safetensors'))), { arch, numClasses: e.num_classes });
    const ask = (m: Model) =>
      call(client, client.evaluate, { model: { safetensors: Buffer.from(m.toSafeTensors()) }, dataset: { name: 'syn' }, split: Split.SPLIT_TEST, batchSize: 10, temperature: 5, maxSamples: 10 });
    const base = await ask(model);
    assert.equal(base.flops, e.flops_ptflops_0_6_2, `${arch} FLOPs`);
    assert.equal(base.parameters, e.param_count, `${arch} parameters`);
    assert.equal(base.compressionRatio, 1);
    // Compression of the fixture's thresholds=[90] pruning: the paper's byte ratio, with the pruned
    // bytes taken from the reference's own pruned tensor shapes (4 bytes a float, 8 per BN counter).
    const ex = e.selection_examples.find((x) => x.thresholds)!;
    const ratio = thresholdRatios(ex.thresholds!)[0];
    const res = pruneStep(model, e.measures.mag_based.map((v) => v.map(Math.fround)), { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(model.net) });
    const bnCount = model.net.filterLayers.length;
    const refPrunedBytes = Object.values(ex.pruned_checksums).reduce((a, [shape]) => a + 4 * shape.reduce((x, y) => x * y, 1), 0) + 8 * bnCount;
    const refBaseBytes = model.net.params.reduce((a, p) => a + (p.kind === 'bn_num_batches_tracked' ? 8 : 4 * p.shape.reduce((x, y) => x * y, 1)), 0);
    const pruned = await ask(res.model);
    assert.ok(Math.abs(pruned.compressionRatio - refBaseBytes / refPrunedBytes) < 1e-12, `${arch} compression ${pruned.compressionRatio} vs ${refBaseBytes / refPrunedBytes}`);
    assert.ok(pruned.compressionRatio > 1.5);
    res.model.dispose();
    model.dispose();
  }
});
