// Contract test: the generated client against the real importance-estimator process (and a real
// data-loader for dataset mode).
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureRoot, layerRel, readFixtureExpected } from '@flowprune/common/testing';
import { status, type ServiceError } from '@grpc/grpc-js';
import { chwToHwc, generateSyntheticCifar10, readCifarBinary } from '@flowprune/data';
import { call, launchService, makeClient, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, parseSafeTensors, prunableLayers, serializeSafeTensors } from '@flowprune/models';
import { ImportanceEstimatorServiceClient, type EstimateRequest, type ImageBatch } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';

const FIXTURES = fixtureRoot();
const procs: LaunchedService[] = [];
let client: ImportanceEstimatorServiceClient;
let randomModel: Buffer;

before(async () => {
  const dir = tempDir('est');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 3, testPerClass: 1, seed: 4 });
  const loader = await launchService({ name: 'data-loader', entry: join(import.meta.dirname, '../../data-loader/src/main.ts'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const est = await launchService({ name: 'importance-estimator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', join(dir, 'runs'), '--data-loader', loader.address] });
  procs.push(est);
  client = makeClient(ImportanceEstimatorServiceClient, est.address);
  await initBackend({ log: () => undefined });
  const m = Model.init(buildNetwork('resnet56', 10), 11);
  randomModel = Buffer.from(m.toSafeTensors());
  m.dispose();
});

after(async () => {
  client?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.deepEqual(codes, [0, 0]);
});

const req = (over: Partial<EstimateRequest>): EstimateRequest => ({ model: { safetensors: randomModel }, measure: 'mag_based', params: {}, batches: [], seed: 0, epoch: 0, layers: [], ...over });

test('ListMeasures names every measure of the paper with its parameters and defaults', async () => {
  const res = await call(client, client.listMeasures, {});
  assert.equal(res.estimator, 'flowprune-builtin');
  const byName = new Map(res.measures.map((m) => [m.name, m]));
  const paper = ['mag_based', 'l1', 'bn', 'loss_based', 'biased_loss', 'biased_loss_init', 'biased_loss_tracked', 'tfo', 'fisher', 'nvidia', 'grasp', 'grad_preserve'];
  for (const n of [...paper, 'biased_loss_tracked_l2', 'biased_loss_tracked_l2_init']) assert.ok(byName.has(n), `${n} listed`);
  const defaults = (n: string) => Object.fromEntries(byName.get(n)!.parameters.map((p) => [p.name, p.defaultValue]));
  assert.deepEqual(defaults('loss_based'), { T: 5, imp_samples: 2560, batch_size: 128, exact_decisions: 0 });
  assert.deepEqual(defaults('grasp'), { grasp_T: 200, imp_samples: 2560, exact_decisions: 0 });
  assert.deepEqual(defaults('grad_preserve'), { grad_preserve_T: 1, imp_samples: 2560, exact_decisions: 0 });
  assert.deepEqual(defaults('mag_based'), {});
  assert.equal(byName.get('biased_loss_init')!.needsInitWeights, true);
  assert.equal(byName.get('fisher')!.needsData, true);
});

test('with a layer manifest it answers exactly the manifest layers, keyed by conv; a manifest that does not fit is INVALID_ARGUMENT', async () => {
  const manifest = prunableLayers(buildNetwork('resnet56', 10).filterLayers);
  const full = await call(client, client.estimate, req({}));
  const picked = await call(client, client.estimate, req({ layers: [manifest[9], manifest[2]] }));
  assert.deepEqual(
    picked.layers.map((l) => [l.conv, l.values]),
    [9, 2].map((i) => [full.layers[i].conv, full.layers[i].values]),
  );
  await assert.rejects(
    call(client, client.estimate, req({ layers: [{ ...manifest[0], outChannels: 3 }] })),
    (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /^layers: "conv1\.weight" has 16 output channels in the model, the manifest says 3/.test(e.details),
  );
});

test('inline weights, θ₀ and batches: biased_loss_init equals the resnet56 fixture', { skip: !existsSync(join(FIXTURES, 'resnet56')) && 'no fixtures' }, async () => {
  const e = readFixtureExpected('resnet56');
  // The fixture file has no flowprune metadata: wrap it with arch and classes.
  const model = Model.fromSafeTensors(new Uint8Array(readFileSync(join(FIXTURES, 'resnet56/weights.safetensors'))), { arch: 'resnet56', numClasses: e.num_classes });
  const split = readCifarBinary(join(FIXTURES, 'data_c10.bin'), { variant: 'cifar10', numClasses: e.num_classes });
  const batches: ImageBatch[] = [];
  for (let s = 0; s < split.count; s += e.batch_size) {
    const n = Math.min(e.batch_size, split.count - s);
    const pixels = Buffer.alloc(n * 3072);
    for (let i = 0; i < n; i++) chwToHwc(split.images, (s + i) * 3072, pixels, i * 3072);
    batches.push({ index: batches.length, count: n, height: 32, width: 32, channels: 3, pixels, labels: Array.from(split.labels.subarray(s, s + n)), sampleIndices: [] });
  }
  const res = await call(
    client,
    client.estimate,
    req({
      model: { safetensors: Buffer.from(model.toSafeTensors()) },
      initModel: { safetensors: readFileSync(join(FIXTURES, 'resnet56/init.safetensors')) },
      measure: 'biased_loss_init',
      params: { T: e.first_order.T, imp_samples: e.imp_samples, exact_decisions: 1 },
      batches,
    }),
  );
  model.dispose();
  assert.deepEqual(res.layers.map((l) => l.conv), e.layers.map((l) => l.conv), "the paper's layer order");
  assert.equal(res.samplesUsed, e.first_order.images_used);
  const r = layerRel(res.layers.map((l) => l.values), e.measures['biased_loss_init']);
  assert.ok(r <= 1e-3, `rel ${r}`);
});

test('dataset mode: the estimator pulls (seed, epoch) batches and class-balanced groups from the data-loader', async () => {
  const est = (measure: string, params: Record<string, number>, epoch = 0) => call(client, client.estimate, req({ measure, params, dataset: { name: 'syn' }, seed: 3, epoch }));
  const a = await est('loss_based', { imp_samples: 15, batch_size: 10 });
  assert.equal(a.samplesUsed, 20, 'whole batches until 15 images were read');
  const again = await est('loss_based', { imp_samples: 15, batch_size: 10 });
  assert.deepEqual(again.layers, a.layers, 'same (seed, epoch): same samples, same values');
  const other = await est('loss_based', { imp_samples: 15, batch_size: 10 }, 1);
  assert.notDeepEqual(other.layers, a.layers, 'another epoch reads other (augmented, reshuffled) samples');
  const g = await est('grasp', { imp_samples: 10 });
  assert.equal(g.samplesUsed, 10, 'one image per class');
  assert.ok(g.layers.some((l) => l.values.some((v) => v < 0)) && g.layers.some((l) => l.values.some((v) => v > 0)), 'grasp is signed');
});

test('bad requests get INVALID_ARGUMENT (or the data-loader status) naming the problem', async () => {
  const invalid = (re: RegExp) => (e: ServiceError) => {
    assert.equal(e.code, status.INVALID_ARGUMENT, e.details);
    assert.match(e.details, re);
    return true;
  };
  const reject = (over: Partial<EstimateRequest>, re: RegExp) => assert.rejects(call(client, client.estimate, req(over)), invalid(re));
  await reject({ measure: 'nope' }, /unknown measure "nope"/);
  await reject({ measure: '' }, /^measure: is required/);
  await reject({ model: undefined }, /^model: is required/);
  await reject({ model: { safetensors: Buffer.from('garbage') } }, /^model: /);
  await reject({ params: { T: 2 } }, /no parameter "T"/);
  await reject({ measure: 'loss_based', params: { T: 0 }, dataset: { name: 'syn' } }, /parameter T of loss_based must be in/);
  await reject({ measure: 'loss_based', params: { imp_samples: 2.5 }, dataset: { name: 'syn' } }, /imp_samples .* whole number/);
  await reject({ measure: 'loss_based' }, /^dataset: measure loss_based reads data/);
  await reject({ measure: 'biased_loss_init', dataset: { name: 'syn' } }, /^init_model: is required by biased_loss_init/);
  await reject({ measure: 'grasp', params: { imp_samples: 5 }, dataset: { name: 'syn' } }, /imp_samples \(5\) must be at least the number of classes \(10\)/);
  const batch: ImageBatch = { index: 0, count: 1, height: 32, width: 32, channels: 3, pixels: Buffer.alloc(3072), labels: [12], sampleIndices: [] };
  await reject({ measure: 'tfo', batches: [batch] }, /^batches: batches\[0\]: label 12 of image 0 is outside 0\.\.9/);
  await reject({ measure: 'tfo', batches: [{ ...batch, labels: [1], pixels: Buffer.alloc(100) }] }, /batches\[0\]: has 100 pixel bytes/);
  // Weights that do not fit the architecture their metadata names.
  const file = parseSafeTensors(randomModel);
  const misfit = serializeSafeTensors({ tensors: file.tensors, metadata: { ...file.metadata, arch: 'vgg13', config: '' } });
  await reject({ model: { safetensors: Buffer.from(misfit) } }, /^model: .*(missing|unexpected) .*vgg13/);
  await assert.rejects(call(client, client.estimate, req({ measure: 'loss_based', dataset: { name: 'nodata' } })), (e: ServiceError) => e.code !== status.OK && /nodata/.test(e.details));
  const res = await call(client, client.listMeasures, {});
  assert.ok(res.measures.length > 0, 'still serving');
});
