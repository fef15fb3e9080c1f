// The claim checks of `flowprune analyze` on hand-made analysis records: each verdict follows the
// numbers it prints.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { RunRecord } from '@flowprune/store';
import type { FlowPoint, PrunePoint } from '@flowprune/training';
import { paperChecks, renderAnalysisPage, type AnalysedRun } from './analyze.js';

const flow = (step: number, loss: number, rho: number, extra: Partial<FlowPoint> = {}): FlowPoint => ({
  type: 'flow',
  step,
  epoch: 0,
  batch: step - 1,
  phase: 'pruning_and_training',
  lr: 0.1,
  loss,
  // Between pruning steps: no θᵀHḡ and no magnitude vs grasp (flow-analysis.ts).
  total: [100 + step, 1, -0.1],
  layers: [[100 + step, 1, -0.1]],
  magnitudeSpearman: { loss_based: rho },
  seconds: 1,
  ...extra,
});

const prune = (measures: string[], dL: number, dG: number, predicted: number): PrunePoint => ({
  type: 'prune',
  round: 1,
  step: 2,
  epoch: 0,
  convs: ['a', 'b', 'c'],
  measures,
  spearman: measures.map(() => measures.map(() => 1)),
  kendall: measures.map(() => measures.map(() => 1)),
  jaccard: measures.map(() => measures.map(() => 1)),
  removedByLayer: measures.map((m) => (m === 'grasp' ? [6, 0, 0] : [0, 0, 6])),
  predicted: { deltaLoss: predicted, deltaGradSq: dG },
  measured: { deltaLoss: dL, deltaGradSq: dG },
  before: { loss: 1, gradSq: 1 },
  after: { loss: 1 + dL, gradSq: 1 + dG },
  seconds: 1,
});

function run(measure: string, seed: number, postLoss: number, dL: number, dG: number, acc: number): AnalysedRun {
  const record = {
    id: `r-${measure}-${seed}`,
    measure,
    seed,
    stats: [
      { phase: 'pruning_and_training', epoch: 0, lr: 0.1, trainLoss: 2, trainAcc: 0.1, seconds: 1 },
      { phase: 'final_training', epoch: 1, lr: 0.1, trainLoss: postLoss, trainAcc: 0.5, seconds: 1 },
    ],
    rounds: [],
    summary: { bestTestAccuracy: acc, channelsBefore: [8, 8, 8], channelsAfter: [4, 8, 6] },
  } as unknown as RunRecord;
  const measures = ['mag_based', 'loss_based', 'grasp', 'run'];
  return {
    record,
    measure,
    seed,
    label: `${measure} s${seed}`,
    flow: [flow(1, 2, 0.2), flow(2, 1.9, 0.5, { afterRound: 1 }), flow(4, postLoss, 0.6, { predictedDeltaThetaSq: 2, measuredDeltaThetaSq: 2.1 }), flow(6, postLoss - 0.1, 0.7, { predictedDeltaThetaSq: 3, measuredDeltaThetaSq: 3.3 })],
    prune: [prune(measures, dL, dG, dL * 0.9)],
  };
}

test('verdicts follow the numbers', () => {
  const runs = [run('mag_based', 0, 1.0, 0.3, -0.1, 0.8), run('mag_based', 1, 1.1, 0.2, -0.1, 0.8), run('loss_based', 0, 1.3, 0.01, 0.1, 0.7), run('grasp', 0, 1.5, 0.5, 0.9, 0.5)];
  const byId = new Map(paperChecks(runs).map((c) => [c.id, c]));
  assert.equal(byId.get('fastest-after-pruning')!.verdict, 'reproduced');
  assert.equal(byId.get('fastest-after-pruning')!.numbers['mag_based post-prune train loss'], 1.05);
  assert.equal(byId.get('magnitude-vs-loss-preservation')!.verdict, 'reproduced');
  assert.equal(byId.get('loss-preservation-at-step')!.verdict, 'reproduced');
  assert.equal(byId.get('grasp-gradient-norm')!.verdict, 'reproduced');
  assert.equal(byId.get('grasp-where')!.numbers['grasp first third'], 1);
  assert.equal(byId.get('grasp-where')!.numbers['mag_based last third'], 1);
  assert.equal(byId.get('first-order-predictions')!.verdict, 'reproduced');
  assert.equal(byId.get('norm-evolution')!.numbers.intervals, 8);

  // GraSP no longer the least accurate: the claim is not reproduced.
  const flipped = [runs[0], runs[2], run('grasp', 0, 1.5, 0.5, 0.9, 0.95)];
  assert.equal(paperChecks(flipped).find((c) => c.id === 'grasp-gradient-norm')!.verdict, 'not reproduced');
});

test('the report page names every check and embeds every chart', () => {
  const runs = [run('mag_based', 0, 1, 0.3, -0.1, 0.8), run('grasp', 0, 1.5, 0.5, 0.9, 0.5)];
  const html = renderAnalysisPage(runs, paperChecks(runs), 'study');
  for (const id of ['fastest-after-pruning', 'grasp-where', 'norm-evolution']) assert.ok(html.includes(id), id);
  for (const chart of ['norms', 'train-loss', 'sample-loss', 'spearman', 'jaccard', 'surviving', 'predicted']) assert.ok(html.includes(`id="chart-${chart}"`), chart);
});
