// The fixture check shared by fixtures-<arch>.test.ts: every measure of ../shared/fixtures/importance
// on one architecture, with every parameter read from its expected.json (the hidden set varies them).
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureRoot, fixtureTolerance, layerRel, type FixtureExpected } from '@flowprune/common/testing';
import { CIFAR_IMAGE_BYTES, chwToHwc, readCifarBinary } from '@flowprune/data';
import { buildNetwork, Model, parseArch } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { cachedFirstOrder, LossBasedImportance } from './gradient-measures.js';
import { initWeightsFromSafeTensors } from './init-weights.js';
import { perWeightBiasedLossTracked } from './formulas.js';
import { layerArrays } from './layer-arrays.js';
import type { MeasureInfo } from './measure.js';
import { getMeasure, resolveParams } from './registry.js';
import { batchListData, classGroupsInOrder, splitIntoBatches, type SampleBatch } from './samples.js';
import { StatisticsCache } from './statistics-cache.js';

export const FIXTURES = fixtureRoot();

export type Expected = FixtureExpected;

/** The measure's own parameters from measure_params / imp_samples (its temperature under its name). */
export function fixtureParams(info: MeasureInfo, e: Expected): Record<string, number> {
  const given: Record<string, number> = {};
  const T = e.measure_params[info.name]?.T;
  for (const p of info.parameters) {
    if (p.name === 'imp_samples') given[p.name] = e.imp_samples;
    if (p.name === 'batch_size') given[p.name] = e.batch_size;
    // The references are float64: take ReLU and max-pool decisions from a float64 evaluation.
    if (p.name === 'exact_decisions') given[p.name] = 1;
    if (['T', 'grasp_T', 'grad_preserve_T'].includes(p.name) && T !== undefined) given[p.name] = T;
  }
  return resolveParams(info, given);
}

/** The data file's images as NHWC batches of the fixture's batch size, in file order. */
export function fixtureBatches(dir: string, e: Expected): SampleBatch[] {
  const split = readCifarBinary(join(dir, e.data_file), { variant: 'cifar10', numClasses: e.num_classes });
  const hwc = new Uint8Array(split.images.length);
  for (let i = 0; i < split.count; i++) chwToHwc(split.images, i * CIFAR_IMAGE_BYTES, hwc, i * CIFAR_IMAGE_BYTES);
  return splitIntoBatches(hwc, split.labels, e.batch_size);
}

function archAvailable(arch: string): boolean {
  try {
    buildNetwork(parseArch(arch), 10);
    return true;
  } catch {
    return false;
  }
}

/** The fixture folders (those holding an expected.json), e.g. vgg13, resnet56, mobilenet_v1. */
export function fixtureFolders(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, 'expected.json'))).sort();
}

/** Registers the test of one fixture folder (its architecture and every parameter come from its expected.json). */
export function fixtureSuite(folder: string): void {
  const dir = join(FIXTURES, folder);
  const present = existsSync(join(dir, 'expected.json'));
  const arch = present ? (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected).architecture : folder;
  const skip = !present ? `no fixtures at ${dir}` : !archAvailable(arch) ? `${arch} is not in libs/models yet` : false;
  test(`${folder}: every measure equals the fixture values within the tolerance of docs/reference-fixtures.md §6`, { skip }, async (t) => {
    await initBackend({ log: () => undefined });
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const model = Model.fromSafeTensors(new Uint8Array(readFileSync(join(dir, e.weights_file))), { arch: e.architecture, numClasses: e.num_classes });
    const initWeights = e.init_weights_file ? initWeightsFromSafeTensors(new Uint8Array(readFileSync(join(dir, e.init_weights_file))), model) : undefined;
    const batches = fixtureBatches(dir, e);
    assert.deepEqual(
      batches.map((b) => b.count),
      e.batches.map((b) => b.length),
      'batches in file order',
    );

    // The sample budget and batch weights (through the cache the measures then share).
    const cache = new StatisticsCache();
    const data = batchListData(batches);
    const foParams = { ...fixtureParams(LossBasedImportance.info, e), T: e.first_order.T };
    const fo = await cachedFirstOrder({ model, params: foParams, data, cache }, 'loss_based');
    assert.deepEqual(fo.batchWeights, e.first_order.batch_weights, 'first-order batch weights');
    assert.equal(fo.imagesUsed, e.first_order.images_used);

    // Class groups: the first n_samples_per_class images of each class, in file order.
    const perClass = Math.trunc(e.imp_samples / e.num_classes);
    assert.equal(perClass, e.hessian.n_samples_per_class);
    const groups = classGroupsInOrder(batches, perClass, e.num_classes);
    const all = batches.flatMap((b) => Array.from({ length: b.count }, (_, i) => b.pixels.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES)));
    groups.forEach((g, c) =>
      e.hessian.class_groups[c].forEach((idx, k) => assert.ok(Buffer.from(g.pixels.subarray(k * CIFAR_IMAGE_BYTES, (k + 1) * CIFAR_IMAGE_BYTES)).equals(Buffer.from(all[idx])), `group ${c} image ${k} is image ${idx}`)),
    );

    const rels: string[] = [];
    const failures: string[] = [];
    for (const [name, expected] of Object.entries(e.measures)) {
      const m = getMeasure(name);
      const started = performance.now();
      const r = await m.compute({ model, params: fixtureParams(m.info, e), data, initWeights, cache });
      const rel = layerRel(r.scores, expected);
      rels.push(`${name} ${rel.toExponential(2)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      if (!(rel <= fixtureTolerance(name))) failures.push(`${name}: rel ${rel} > ${fixtureTolerance(name)}`);
    }
    t.diagnostic(`${arch} rel: ${rels.join(', ')}; float32 decisions corrected: ${cache.decisions.corrections}`);
    assert.deepEqual(failures, [], `${arch}: measures outside the tolerance`);

    // biased_loss_tracked's unreduced per-weight values for the small layers.
    const pw = e.per_weight?.biased_loss_tracked;
    if (pw) {
      const arrays = layerArrays(model, { firstOrder: fo });
      pw.layers.forEach((l, k) => {
        const got = Array.from(perWeightBiasedLossTracked(arrays[l].w, arrays[l].g!));
        const rel = layerRel([got], [pw.values[k]]);
        assert.ok(rel <= 1e-3, `${arch} per-weight biased_loss_tracked layer ${l}: rel ${rel}`);
      });
    }
    model.dispose();
  });
}

