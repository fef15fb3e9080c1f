import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { PrunableLayerInfo } from '@flowprune/models';
import { EstimatorAnswerError, scoresInManifestOrder } from './answers.js';

const manifest: PrunableLayerInfo[] = [
  { conv: 'a.weight', batchNorm: 'a_bn', outChannels: 2, depthwise: false },
  { conv: 'b.weight', batchNorm: 'b_bn', outChannels: 3, depthwise: false },
];
const WHO = 'team-x@10.0.0.7:50060';

test('answers are read by conv name, in manifest order, whatever their order', () => {
  const answer = [
    { conv: 'b.weight', values: [3, 4, 5] },
    { conv: 'a.weight', values: [1, 2] },
  ];
  assert.deepEqual(scoresInManifestOrder(manifest, answer, WHO), [
    [1, 2],
    [3, 4, 5],
  ]);
});

const rejects = (answer: { conv: string; values: number[] }[], layer: string, what: RegExp) =>
  assert.throws(
    () => scoresInManifestOrder(manifest, answer, WHO),
    (e: unknown) => {
      assert.ok(e instanceof EstimatorAnswerError);
      assert.equal(e.layer, layer);
      assert.ok(e.message.startsWith(`estimator ${WHO} answered badly for layer "${layer}": `), e.message);
      assert.match(e.message, what);
      return true;
    },
  );

test('a missing layer is named', () => rejects([{ conv: 'a.weight', values: [1, 2] }], 'b.weight', /missing from the answer/));
test('a repeated layer is named', () =>
  rejects(
    [
      { conv: 'a.weight', values: [1, 2] },
      { conv: 'a.weight', values: [1, 2] },
      { conv: 'b.weight', values: [3, 4, 5] },
    ],
    'a.weight',
    /more than once/,
  ));
test('a layer not in the manifest is named', () => rejects([{ conv: 'c.weight', values: [1] }], 'c.weight', /not a layer of the request's manifest/));
test('a wrong value count is named', () =>
  rejects(
    [
      { conv: 'a.weight', values: [1] },
      { conv: 'b.weight', values: [3, 4, 5] },
    ],
    'a.weight',
    /1 values for 2 output channels/,
  ));
for (const bad of [NaN, Infinity, -Infinity])
  test(`a non-finite value (${bad}) is named with its channel`, () =>
    rejects(
      [
        { conv: 'a.weight', values: [1, 2] },
        { conv: 'b.weight', values: [3, bad, 5] },
      ],
      'b.weight',
      new RegExp(`channel 1 is ${bad}`),
    ));
