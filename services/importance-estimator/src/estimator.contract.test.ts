// Contract test: the generated client against the real importance-estimator process.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { call, launchService, makeClient, tempDir, type LaunchedService } from '@flowprune/grpc';
import { Model } from '@flowprune/models';
import { ImportanceEstimatorServiceClient } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';

const FIXTURES = resolve(process.env.FLOWPRUNE_FIXTURES ?? join(import.meta.dirname, '../../../../shared/fixtures/importance'));
let svc: LaunchedService;
let client: ImportanceEstimatorServiceClient;

before(async () => {
  svc = await launchService({ name: 'importance-estimator', entry: join(import.meta.dirname, 'main.ts'), args: ['--store', tempDir('est')] });
  client = makeClient(ImportanceEstimatorServiceClient, svc.address);
});

after(async () => {
  client?.close();
  assert.equal(await svc?.stop(), 0);
});

test('ListMeasures names the built-in measures', async () => {
  const res = await call(client, client.listMeasures, {});
  assert.equal(res.estimator, 'flowprune-builtin');
  const names = res.measures.map((m) => m.name);
  for (const n of ['mag_based', 'l1', 'bn']) assert.ok(names.includes(n), `${n} listed`);
});

test('Estimate mag_based on inline fixture weights equals the reference values', { skip: !existsSync(join(FIXTURES, 'resnet56')) && 'no fixtures' }, async () => {
  const e = JSON.parse(readFileSync(join(FIXTURES, 'resnet56/expected.json'), 'utf8')) as { num_classes: number; measures: { mag_based: number[][] }; layers: { conv: string }[] };
  const bytes = readFileSync(join(FIXTURES, 'resnet56/weights.safetensors'));
  // The fixture file has no flowprune metadata: wrap it with arch and classes.
  await initBackend();
  const model = Model.fromSafeTensors(new Uint8Array(bytes), { arch: 'resnet56', numClasses: e.num_classes });
  const res = await call(client, client.estimate, { model: { safetensors: Buffer.from(model.toSafeTensors()) }, measure: 'mag_based', params: {}, batches: [], seed: 0, epoch: 0 });
  model.dispose();
  assert.equal(res.layers.length, e.measures.mag_based.length);
  res.layers.forEach((l, i) => {
    assert.equal(l.conv, e.layers[i].conv);
    const ref = e.measures.mag_based[i];
    const scale = Math.max(...ref);
    l.values.forEach((v, j) => assert.ok(Math.abs(v - ref[j]) <= 1e-6 * scale, `layer ${i}[${j}]: ${v} vs ${ref[j]}`));
  });
});

test('bad requests get INVALID_ARGUMENT or NOT_FOUND naming the problem', async () => {
  const base = { params: {}, batches: [], seed: 0, epoch: 0 };
  await assert.rejects(call(client, client.estimate, { ...base, measure: 'nope', model: { safetensors: Buffer.from([1]) } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /unknown measure "nope"/.test(e.details));
  await assert.rejects(call(client, client.estimate, { ...base, measure: 'mag_based' }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /^model: is required/.test(e.details));
  await assert.rejects(call(client, client.estimate, { ...base, measure: 'mag_based', model: { safetensors: Buffer.from('garbage') } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /model/.test(e.details));
  await assert.rejects(call(client, client.estimate, { ...base, measure: 'mag_based', params: { T: 2 }, model: { safetensors: Buffer.from([0]) } }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /no parameter "T"/.test(e.details));
  await assert.rejects(call(client, client.estimate, { ...base, measure: 'mag_based', model: { checkpoint: { runId: 'r1', name: 'x' } } }), (e: ServiceError) => e.code !== status.OK && /r1/.test(e.details));
  const res = await call(client, client.listMeasures, {});
  assert.ok(res.measures.length > 0, 'still serving');
});
