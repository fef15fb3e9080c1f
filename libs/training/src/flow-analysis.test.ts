// The run loop's gradient-flow analysis on a thin VGG-13 (every layer 4–8 channels) and synthetic
// images: points every k batches, one pruning record whose numbers are checked against independent
// computations (the measures' own scores, the flow's per-filter values), in this process.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { batchListData, getMeasure, GRADIENT_FLOW_INFO, gradientFlow, resolveParams, type SampleBatch } from '@flowprune/importance';
import { buildNetwork, Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { evaluateModel } from './evaluate.js';
import { makeFlowAnalysis, type AnalysisRecord, type FlowPoint, type PrunePoint } from './flow-analysis.js';
import { resolveRunConfig } from './run-config.js';
import { pruneStep } from '@flowprune/pruning';

const THIN = [4, 4, 'M', 6, 6, 'M', 8, 8, 'M', 8, 8, 'M', 8, 8, 'M'] as const;

function batch(seed: number, n: number): SampleBatch {
  return {
    count: n,
    height: 32,
    width: 32,
    channels: 3,
    pixels: Uint8Array.from({ length: n * 3072 }, (_, j) => (j * 31 + seed * 17 + ((j * j) % 7)) % 256),
    labels: Array.from({ length: n }, (_, j) => (j + seed) % 10),
  };
}

test('flow points every k batches and a pruning record that matches direct computations', async () => {
  await initBackend({ log: () => undefined });
  const net = buildNetwork('vgg13', 10, [...THIN]);
  const model = Model.init(net, 3);
  const cfg = resolveRunConfig({ arch: 'vgg13', dataset: 'x', numClasses: 10, momentum: 0.5, weightDecay: 1e-3, analysis: { everyBatches: 2, samples: 20 } });
  const data = batchListData([batch(1, 10), batch(2, 10)]);
  const records: AnalysisRecord[] = [];
  const errors: string[] = [];
  const analysis = makeFlowAnalysis({ cfg, data, emit: (r) => records.push(r), onError: (m) => errors.push(m) });

  for (let b = 0; b < 5; b++) await analysis.afterStep(model, { epoch: 0, batch: b, phase: 'pruning_and_training', lr: 0.1 });
  const flows = records.filter((r): r is FlowPoint => r.type === 'flow');
  assert.deepEqual(flows.map((p) => p.step), [2, 4], 'a point every 2 batches');
  // The stored totals are the lib's gradientFlow on the same sample (to the 6 stored digits), without
  // θᵀHḡ and magnitude vs grasp between pruning steps.
  const direct = await gradientFlow({ model, params: resolveParams(GRADIENT_FLOW_INFO, { T: 5, grasp_T: 200, imp_samples: 20, exact_decisions: 0 }), data });
  assert.deepEqual(flows[0].total, [direct.total.theta_sq, direct.total.grad_sq, direct.total.theta_dot_grad].map((x) => Number(x.toPrecision(6))));
  assert.equal(flows[0].layers[2].length, 3);
  assert.deepEqual(Object.keys(flows[0].magnitudeSpearman), ['loss_based']);
  // Same weights at both points: ‖θ‖² did not change, and the prediction is −2·η/(1−μ)·k·(θᵀḡ + λ‖θ‖²).
  assert.equal(flows[1].measuredDeltaThetaSq, 0);
  const predicted = -2 * (0.1 / 0.5) * 2 * (direct.total.theta_dot_grad + 1e-3 * direct.total.theta_sq);
  assert.ok(Math.abs(flows[1].predictedDeltaThetaSq! - predicted) <= 1e-5 * Math.abs(predicted), `${flows[1].predictedDeltaThetaSq} vs ${predicted}`);
  const lossNow = (await evaluateModel(model, data.batches(), 5)).loss;
  assert.ok(Math.abs(flows[0].loss - lossNow) <= 1e-5 * lossNow, 'loss on the analysis sample');

  // A pruning step by magnitude at ratio 0.3.
  const mag = (await getMeasure('mag_based').compute({ model, params: {} })).scores;
  const prune = { ratio: 0.3, pCumulative: 70, originalWidths: net.filterLayers.map((l) => l.outChannels) };
  const after = await analysis.beforePrune(model, { round: 1, epoch: 0, lr: 0.1, runScores: mag, prune });
  const res = pruneStep(model, mag, prune);
  await after(res.model, res.selection);
  assert.deepEqual(errors, []);
  const p = records.find((r): r is PrunePoint => r.type === 'prune')!;
  const n = p.measures.length;
  assert.equal(p.measures[n - 1], 'run');
  assert.ok(p.measures.includes('grasp') && p.measures.includes('loss_based') && !p.measures.includes('biased_loss_init'));
  for (let i = 0; i < n; i++) {
    // bn is constant at initialisation (every γ = 1): no ranking, NaN.
    assert.ok(p.measures[i] === 'bn' ? Number.isNaN(p.spearman[i][i]) : p.spearman[i][i] === 1, `${p.measures[i]} with itself`);
    for (let j = 0; j < n; j++) assert.ok(Object.is(p.spearman[i][j], p.spearman[j][i]), 'symmetric');
  }
  // The run's scores are mag_based's: identical ranking and removed set.
  const m = p.measures.indexOf('mag_based');
  assert.equal(p.spearman[m][n - 1], 1);
  assert.equal(p.kendall[m][n - 1], 1);
  assert.equal(p.jaccard[m][n - 1], 1);
  assert.deepEqual(p.removedByLayer[n - 1], res.selection.counts);
  // Predicted ΔL = −Σ θ·ḡ over the removed filters, from the flow's per-filter values.
  const perFilter = await gradientFlow({ model, params: resolveParams(GRADIENT_FLOW_INFO, { T: 5, grasp_T: 200, imp_samples: 20, exact_decisions: 0 }), data }, { perFilter: true });
  const dot = res.selection.removed.reduce((s, cs, l) => s + cs.reduce((a, c) => a + perFilter.layers[l].filters!.theta_dot_grad[c], 0), 0);
  assert.ok(Math.abs(p.predicted.deltaLoss + dot) <= 1e-5 * Math.abs(dot), `${p.predicted.deltaLoss} vs ${-dot}`);
  const lossAfter = (await evaluateModel(res.model, data.batches(), 5)).loss;
  assert.ok(Math.abs(p.measured.deltaLoss - (lossAfter - lossNow)) <= 1e-4 * Math.abs(lossNow), 'measured ΔL');
  const post = records.filter((r): r is FlowPoint => r.type === 'flow').at(-1)!;
  assert.equal(post.afterRound, 1, 'a point right after pruning');
  assert.equal(post.measuredDeltaThetaSq, undefined, 'no norm prediction across a pruning step');
  // Right after pruning, all four quantities: the lib's gradientFlow on the pruned model.
  const pruned = await gradientFlow({ model: res.model, params: resolveParams(GRADIENT_FLOW_INFO, { T: 5, grasp_T: 200, imp_samples: 20, exact_decisions: 0 }), data });
  assert.deepEqual(post.total, [pruned.total.theta_sq, pruned.total.grad_sq, pruned.total.theta_dot_grad, pruned.total.theta_dot_hg].map((x) => Number(x.toPrecision(6))));
  assert.ok(Number.isFinite(post.magnitudeSpearman.grasp), 'magnitude vs grasp right after pruning');
  model.dispose();
  res.model.dispose();
});

test('points between pruning steps never compute the Hessian-gradient product', async () => {
  await initBackend({ log: () => undefined });
  const model = Model.init(buildNetwork('vgg13', 10, [...THIN]), 2);
  const cfg = resolveRunConfig({ arch: 'vgg13', dataset: 'x', numClasses: 10, analysis: { everyBatches: 1, samples: 20 } });
  const errors: string[] = [];
  const records: AnalysisRecord[] = [];
  // Hḡ reads the class groups: here they fail, so a point that needed them would be skipped.
  const noGroups = { batches: batchListData([batch(1, 10), batch(2, 10)]).batches, classGroups: () => Promise.reject(new Error('class groups were read')) };
  const analysis = makeFlowAnalysis({ cfg, data: noGroups, emit: (r) => records.push(r), onError: (m) => errors.push(m) });
  await analysis.afterStep(model, { epoch: 0, batch: 0, phase: 'final_training', lr: 0.1 });
  assert.deepEqual(errors, []);
  assert.equal(records.length, 1);
  model.dispose();
});

test('hessian_every_batches: θᵀHḡ (and magnitude vs grasp) at those points between pruning steps, first order at the others', async () => {
  await initBackend({ log: () => undefined });
  const model = Model.init(buildNetwork('vgg13', 10, [...THIN]), 2);
  const cfg = resolveRunConfig({ arch: 'vgg13', dataset: 'x', numClasses: 10, analysis: { everyBatches: 1, samples: 20, hessianEveryBatches: 2 } });
  const records: AnalysisRecord[] = [];
  const analysis = makeFlowAnalysis({ cfg, data: batchListData([batch(1, 10), batch(2, 10)]), emit: (r) => records.push(r) });
  for (let b = 0; b < 4; b++) await analysis.afterStep(model, { epoch: 0, batch: b, phase: 'final_training', lr: 0.1 });
  const points = records.filter((r) => r.type === 'flow');
  assert.deepEqual(points.map((p) => p.total.length), [3, 4, 3, 4], 'θᵀHḡ at batches 2 and 4 only');
  assert.deepEqual(points.map((p) => 'grasp' in p.magnitudeSpearman), [false, true, false, true]);
  // The same model at the same point: the Hessian points' first three quantities are the first-order ones.
  assert.deepEqual(points[1]!.total.slice(0, 3), points[0]!.total);
  model.dispose();
});

test('a failing analysis is reported and skipped, never failing the run', async () => {
  await initBackend({ log: () => undefined });
  const model = Model.init(buildNetwork('vgg13', 10, [...THIN]), 1);
  const cfg = resolveRunConfig({ arch: 'vgg13', dataset: 'x', numClasses: 10, analysis: { everyBatches: 1, samples: 20 } });
  const errors: string[] = [];
  const broken = { batches: () => batchListData([]).batches(), classGroups: () => Promise.reject(new Error('no data-loader')) };
  const analysis = makeFlowAnalysis({ cfg, data: broken, emit: () => assert.fail('nothing to emit'), onError: (m) => errors.push(m) });
  await analysis.afterStep(model, { epoch: 0, batch: 0, phase: 'final_training', lr: 0.1 });
  assert.equal(errors.length, 1);
  assert.match(errors[0], /analysis at batch 1 failed and was skipped: no images to estimate from/);
  model.dispose();
});

test('analysis settings are checked when the run is resolved', () => {
  const base = { arch: 'vgg13', dataset: 'x', numClasses: 10 };
  assert.deepEqual(resolveRunConfig({ ...base, analysis: { everyBatches: 50, samples: 0 } }).analysis, { everyBatches: 50, samples: 128, hessianEveryBatches: 0 }, 'defaults');
  assert.throws(() => resolveRunConfig({ ...base, analysis: { everyBatches: 50, hessianEveryBatches: 75 } }), /analysis.hessian_every_batches: must be 0 or a multiple of every_batches \(50\)/);
  assert.throws(() => resolveRunConfig({ ...base, analysis: { everyBatches: 0, hessianEveryBatches: 50 } }), /analysis.hessian_every_batches/);
  assert.throws(() => resolveRunConfig({ ...base, analysis: { everyBatches: -1, samples: 64 } }), /analysis.every_batches: must be a whole number ≥ 0/);
  assert.throws(() => resolveRunConfig({ ...base, analysis: { everyBatches: 5, samples: 5 } }), /analysis.samples: must be a whole number ≥ the 10 classes/);
});
