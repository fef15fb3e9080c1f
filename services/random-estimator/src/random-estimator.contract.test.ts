// Contract test: the generated client against the real random-estimator process.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, prunableLayers, serializeSafeTensors } from '@flowprune/models';
import { ImportanceEstimatorServiceClient, type EstimateRequest } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';
import { randomScores } from './random-scores.js';

let svc: LaunchedService;
let client: ImportanceEstimatorServiceClient;
let checkpoint: Buffer;
let widths: number[];

before(async () => {
  svc = await launchService({ name: 'random-estimator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', tempDir('rand')] });
  client = makeClient(ImportanceEstimatorServiceClient, svc.address);
  await initBackend({ log: () => undefined });
  const model = Model.init(buildNetwork('resnet56', 10), 3);
  checkpoint = Buffer.from(model.toSafeTensors());
  widths = model.net.filterLayers.map((l) => l.outChannels);
  model.dispose();
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0);
});

const req = (over: Partial<EstimateRequest> = {}): EstimateRequest => ({ model: { safetensors: checkpoint }, measure: 'random', params: {}, batches: [], seed: 0, epoch: 0, layers: [], ...over });

test('ListMeasures offers `random` with its seed parameter', async () => {
  const res = await call(client, client.listMeasures, {});
  assert.equal(res.estimator, 'flowprune-random');
  assert.deepEqual(res.measures.map((m) => m.name), ['random']);
  assert.deepEqual(res.measures[0].parameters.map((p) => [p.name, p.defaultValue]), [['seed', 0]]);
});

test('Estimate gives one seeded vector per filter layer, the same for the same seed', async () => {
  const a = await call(client, client.estimate, req({ params: { seed: 7 } }));
  const b = await call(client, client.estimate, req({ params: { seed: 7 } }));
  const c = await call(client, client.estimate, req({ params: { seed: 8 } }));
  assert.deepEqual(a.layers.map((l) => l.values.length), widths);
  assert.deepEqual(a.layers.map((l) => l.values), randomScores(widths, 7));
  assert.deepEqual(a.layers, b.layers);
  assert.notDeepEqual(a.layers.map((l) => l.values), c.layers.map((l) => l.values));
  assert.equal(a.layers[21].conv, 'layer2.0.shortcut.0.weight');
});

test('with a layer manifest it answers exactly the manifest layers, keyed by conv', async () => {
  const net = buildNetwork('resnet56', 10);
  const manifest = prunableLayers(net.filterLayers);
  const picked = [manifest[21], manifest[0], manifest[5]];
  const res = await call(client, client.estimate, req({ layers: picked, params: { seed: 7 } }));
  const all = randomScores(widths, 7);
  assert.deepEqual(
    res.layers.map((l) => [l.conv, l.values]),
    [21, 0, 5].map((i) => [manifest[i].conv, all[i]]),
  );
});

test('bad requests get INVALID_ARGUMENT naming the problem', async () => {
  const invalid = (re: RegExp) => (e: ServiceError) => e.code === status.INVALID_ARGUMENT && re.test(e.details);
  await assert.rejects(call(client, client.estimate, req({ measure: 'mag_based' })), invalid(/unknown measure "mag_based"/));
  await assert.rejects(call(client, client.estimate, req({ params: { seed: -1 } })), invalid(/seed/));
  await assert.rejects(call(client, client.estimate, req({ params: { T: 5 } })), invalid(/no parameter "T"/));
  await assert.rejects(call(client, client.estimate, req({ model: undefined })), invalid(/^model: is required/));
  await assert.rejects(
    call(client, client.estimate, req({ layers: [{ conv: 'nope.weight', batchNorm: '', outChannels: 4, depthwise: false }] })),
    invalid(/^layers: "nope\.weight" is not a filter layer of this resnet56 model/),
  );
  await assert.rejects(
    call(client, client.estimate, req({ layers: [{ conv: 'conv1.weight', batchNorm: 'bn1', outChannels: 8, depthwise: false }] })),
    invalid(/^layers: "conv1\.weight" has 16 output channels in the model, the manifest says 8/),
  );
  const bad = serializeSafeTensors({ tensors: new Map([['conv1.weight', { dtype: 'F32', shape: [8, 3, 3, 3], data: new Float32Array(216) }]]), metadata: { arch: 'resnet56', num_classes: '10' } });
  await assert.rejects(call(client, client.estimate, req({ model: { safetensors: Buffer.from(bad) } })), invalid(/conv1\.weight has shape \[8,3,3,3\]/));
});
