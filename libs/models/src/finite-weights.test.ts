// Untrusted checkpoint bytes: malformed headers and metadata are refused with an error naming them
// (never a TypeError), and NaN/Inf weights are found.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkFiniteWeights } from './finite-weights.js';
import { Model, WeightsError } from './model.js';
import { parseSafeTensors, SafeTensorsError, serializeSafeTensors } from './safetensors.js';

const file = (metadata: Record<string, string>, data = Float32Array.of(1, 2, 3)) =>
  serializeSafeTensors({ tensors: new Map([['w', { dtype: 'F32', shape: [3], data }]]), metadata });

function rawHeader(header: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test('NaN and Inf weights are named; finite ones pass', () => {
  checkFiniteWeights(file({}));
  assert.throws(() => checkFiniteWeights(file({}, Float32Array.of(1, NaN, 3)), 'model'), (e: Error) => e instanceof WeightsError && /^model: tensor w holds NaN at element 1/.test(e.message));
  assert.throws(() => checkFiniteWeights(file({}, Float32Array.of(Infinity, 0, 0)), 'init_model'), /init_model: tensor w holds Infinity at element 0/);
});

test('malformed headers are SafeTensorsErrors, not TypeErrors', () => {
  for (const header of [null, [1, 2], { w: null }, { w: 5 }, { w: { dtype: 'F32' } }, { w: { dtype: 'F32', shape: 'x', data_offsets: [0, 4] } }, { w: { dtype: 'F32', shape: [1], data_offsets: null } }, { w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, { __metadata__: { a: 1 } }])
    assert.throws(() => parseSafeTensors(rawHeader(header), 'model'), (e: Error) => e instanceof SafeTensorsError && e.message.startsWith('model: '), JSON.stringify(header));
});

test('bad metadata JSON in a checkpoint is a WeightsError naming the key', () => {
  assert.throws(() => Model.fromSafeTensors(file({ arch: 'vgg13', num_classes: '10', config: '{oops' }), {}, 'model'), (e: Error) => e instanceof WeightsError && /model: metadata "config" is not valid JSON/.test(e.message));
});
