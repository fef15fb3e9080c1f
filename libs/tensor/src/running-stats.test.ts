// The in-place running-statistics update against the tfjs ops it replaces, bit for bit, on the
// backends that expose their storage (wasm always, native when built).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRunningStats, tf, updateRunningStatsInPlace, type RunningStatsUpdate } from './index.js';
import { nativeSkipReason, seeded, useNativeWithCpuReference, useWasmWithCpuReference } from './test-helpers.js';

const MOMENTUM = 0.1;
const COUNT = 128 * 32 * 32;

/** A variable that owns its data alone, as a model's are. */
function own(values: Float32Array): tf.Variable {
  const t = tf.tensor1d(values);
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

function layers(): { rm: tf.Variable; rv: tf.Variable; mean: tf.Tensor1D; variance: tf.Tensor1D }[] {
  return [16, 64, 3].map((c, i) => ({
    rm: own(seeded([c], 10 + i)),
    rv: own(seeded([c], 20 + i).map((v) => 1 + v * v)),
    mean: tf.tensor1d(seeded([c], 30 + i)),
    variance: tf.tensor1d(seeded([c], 40 + i).map((v) => v * v)),
  }));
}

type Layer = ReturnType<typeof layers>[number];

/** The update as tfjs ops, written out here as the reference. */
function withOps(l: Layer): void {
  tf.tidy(() => {
    l.rm.assign(tf.add(tf.mul(l.rm, 1 - MOMENTUM), tf.mul(l.mean, MOMENTUM)));
    const unbiased = tf.mul(l.variance, COUNT / (COUNT - 1));
    l.rv.assign(tf.add(tf.mul(l.rv, 1 - MOMENTUM), tf.mul(unbiased, MOMENTUM)));
  });
}

const asUpdate = (l: Layer): RunningStatsUpdate => ({ runningMean: l.rm, runningVar: l.rv, mean: l.mean, variance: l.variance, count: COUNT });

/** Three steps of `apply` on one copy of the layers against the reference ops on another, compared bit for bit. */
function compareWithOps(apply: (updates: RunningStatsUpdate[]) => void): Layer[] {
  const a = layers();
  const b = layers();
  for (let step = 0; step < 3; step++) {
    a.forEach(withOps);
    apply(b.map(asUpdate));
  }
  a.forEach((l, i) => {
    assert.deepEqual(b[i]!.rm.dataSync(), l.rm.dataSync(), `running_mean of layer ${i}`);
    assert.deepEqual(b[i]!.rv.dataSync(), l.rv.dataSync(), `running_var of layer ${i}`);
  });
  tf.dispose(a.flatMap((x) => [x.rm, x.rv, x.mean, x.variance]));
  return b;
}

function check(): void {
  const b = compareWithOps((updates) => assert.equal(updateRunningStatsInPlace(updates, MOMENTUM), true));
  // A running tensor sharing its data (a snapshot's clone) is never written: refused, unchanged.
  const l = b[0]!;
  const shared = l.rm.clone();
  const before = l.rm.dataSync().slice();
  assert.equal(updateRunningStatsInPlace([asUpdate(l)], MOMENTUM), false);
  assert.deepEqual(l.rm.dataSync(), before);
  assert.deepEqual(shared.dataSync(), before);
  tf.dispose([shared, ...b.flatMap((x) => [x.rm, x.rv, x.mean, x.variance])]);
}

describe('BatchNorm running statistics updated in place equal the tfjs ops bit for bit', () => {
  test('wasm', async () => {
    await (nativeSkipReason() ? useWasmWithCpuReference() : useNativeWithCpuReference());
    await tf.setBackend('wasm');
    check();
  });
  test('native', { skip: nativeSkipReason() }, async () => {
    await useNativeWithCpuReference();
    await tf.setBackend('native');
    check();
  });
});

test('applyRunningStats falls back to tfjs ops where the storage is out of reach (cpu), same numbers', async () => {
  await (nativeSkipReason() ? useWasmWithCpuReference() : useNativeWithCpuReference());
  await tf.setBackend('cpu');
  assert.equal(updateRunningStatsInPlace([], MOMENTUM), false, 'cpu exposes no storage');
  const b = compareWithOps((updates) => applyRunningStats(updates, MOMENTUM));
  tf.dispose(b.flatMap((x) => [x.rm, x.rv, x.mean, x.variance]));
});
