import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '@flowprune/tensor';
import { buildNetwork } from './arch/index.js';
import { FIXTURES_DIR, fixturesPresent } from './fixtures.test-util.js';
import { Model, WeightsError } from './model.js';
import { parseSafeTensors, serializeSafeTensors } from './safetensors.js';

before(async () => {
  // Loading and saving only create and read tensors; any backend will do.
  await initBackend();
});

for (const arch of ['vgg13', 'resnet56', 'mobilenet_v1'] as const) {
  test(`${arch}: fixture weights load by PyTorch names and save→load round-trips bit-exactly`, { skip: !fixturesPresent && 'no fixtures' }, () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES_DIR, arch, 'weights.safetensors')));
    const original = parseSafeTensors(bytes);
    const model = Model.fromSafeTensors(bytes, { arch, numClasses: 10 });
    const saved = model.toSafeTensors();
    const again = parseSafeTensors(saved);
    assert.deepEqual([...again.tensors.keys()], [...original.tensors.keys()], 'same keys in the same order');
    for (const [k, t] of original.tensors) {
      const u = again.tensors.get(k)!;
      assert.deepEqual(u.shape, t.shape, k);
      assert.equal(u.dtype, t.dtype, k);
      assert.deepEqual(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), `${k} bytes`);
    }
    assert.equal(again.metadata.arch, arch);
    const reloaded = Model.fromSafeTensors(saved);
    assert.equal(reloaded.net.numClasses, 10);
    model.dispose();
    reloaded.dispose();
  });
}

test('weights that do not fit the architecture are rejected naming the tensor', () => {
  const net = buildNetwork('resnet56', 10);
  const model = Model.init(net, 1);
  const sd = model.stateDict();
  sd.set('layer1.0.conv1.weight', { dtype: 'F32', shape: [8, 16, 3, 3], data: new Float32Array(8 * 16 * 9) });
  assert.throws(() => Model.fromStateDict(net, sd), (e: Error) => e instanceof WeightsError && /layer1\.0\.conv1\.weight.*\[8,16,3,3\].*\[16,16,3,3\]/.test(e.message));
  sd.delete('linear.bias');
  assert.throws(() => Model.fromStateDict(net, sd), /missing 1 tensor\(s\).*linear\.bias/);
  model.dispose();
});

test('module. prefixes of DataParallel checkpoints are stripped', () => {
  const net = buildNetwork('resnet56', 10);
  const model = Model.init(net, 2);
  const prefixed = new Map([...model.stateDict()].map(([k, v]) => [`module.${k}`, v]));
  const bytes = serializeSafeTensors({ tensors: prefixed, metadata: {} });
  const loaded = Model.fromSafeTensors(bytes, { arch: 'resnet56' });
  assert.equal(loaded.net.numClasses, 10);
  model.dispose();
  loaded.dispose();
});

test('a non-default input size travels in the checkpoint metadata; a malformed one is refused', () => {
  const input = { name: 'input', channels: 3, height: 64, width: 48 };
  const model = Model.init(buildNetwork('resnet56', 10, undefined, input), 3);
  const bytes = model.toSafeTensors();
  const reloaded = Model.fromSafeTensors(bytes);
  assert.deepEqual(reloaded.net.graph.input, input);
  const file = parseSafeTensors(bytes);
  file.metadata.input = JSON.stringify({ ...input, height: -1 });
  assert.throws(() => Model.fromSafeTensors(serializeSafeTensors(file)), /metadata "input" must be .* positive integer sizes/);
  const cifar = Model.init(buildNetwork('resnet56', 10), 1);
  assert.equal(parseSafeTensors(cifar.toSafeTensors()).metadata.input, undefined, 'CIFAR checkpoints stay as they were');
  cifar.dispose();
  model.dispose();
  reloaded.dispose();
});
