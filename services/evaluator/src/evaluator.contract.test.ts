// Contract test: the generated client against real evaluator and data-loader processes.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, tempDir, type LaunchedService } from '@flowprune/grpc';
import { buildNetwork, countFlops, countParameters, Model } from '@flowprune/models';
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
