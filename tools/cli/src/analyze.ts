// `flowprune analyze RUN…`: the paper's claims as numeric checks over runs that recorded the
// gradient-flow analysis (`analysis: {every_batches: k}`), and a report page with the figures.
import Table from 'cli-table3';
import { median, pearson } from '@flowprune/common';
import {
  correlationHeatmaps,
  escapeHtml,
  lossByMeasureChart,
  normEvolutionChart,
  predictedVsMeasuredChart,
  renderPage,
  survivingChannelsChart,
  type FlowRow,
  type VegaLiteSpec,
} from '@flowprune/report';
import type { RunRecord, RunStore } from '@flowprune/store';
import type { AnalysisRecord, FlowPoint, PrunePoint } from '@flowprune/training';
import { loadRuns } from './runs.js';

export interface AnalysedRun {
  record: RunRecord;
  measure: string;
  seed: number;
  label: string;
  flow: FlowPoint[];
  prune: PrunePoint[];
}

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'reported';

export interface ClaimCheck {
  id: string;
  claim: string;
  /** The numbers behind the verdict, by name. */
  numbers: Record<string, number | string>;
  verdict: Verdict;
  how: string;
}

async function loadAnalysedRuns(store: RunStore, ids: string[]): Promise<AnalysedRun[]> {
  const records = await loadRuns(store, ids);
  return Promise.all(
    records.map(async (record) => {
      const recs = (await store.readEvents(record.id)).filter((e) => e.type === 'analysis').map((e) => (e.data as { analysis: AnalysisRecord }).analysis);
      const measure = record.measure || 'base';
      const seed = record.seed ?? 0;
      return {
        record,
        measure,
        seed,
        label: `${measure} s${seed} (${record.id})`,
        flow: recs.filter((r): r is FlowPoint => r.type === 'flow'),
        prune: recs.filter((r): r is PrunePoint => r.type === 'prune'),
      };
    }),
  );
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN);
const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : NaN);

function byMeasure<T>(runs: AnalysedRun[], f: (r: AnalysedRun) => T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of runs) out.set(r.measure, [...(out.get(r.measure) ?? []), ...f(r)]);
  return out;
}

/** The measure with the smallest (or largest) value, and whether it is `expected`. */
function extreme(values: Map<string, number>, expected: string, kind: 'min' | 'max'): { best: string; verdict: Verdict } {
  const finite = [...values].filter(([, v]) => Number.isFinite(v));
  if (finite.length < 2 || !values.has(expected)) return { best: '—', verdict: 'inconclusive' };
  const best = finite.reduce((a, b) => ((kind === 'min' ? b[1] < a[1] : b[1] > a[1]) ? b : a))[0];
  return { best, verdict: best === expected ? 'reproduced' : 'not reproduced' };
}

const lastPruneEpoch = (r: AnalysedRun) => Math.max(-1, ...r.prune.map((p) => p.epoch));

/** Training loss of the epochs after the last pruning step, averaged (the run's record). */
function postPruneTrainLoss(r: AnalysedRun): number {
  const last = lastPruneEpoch(r);
  return mean(r.record.stats.filter((s) => s.epoch > last).map((s) => s.trainLoss));
}

/** Analysis-sample loss drop per 100 batches from right after the last pruning step to the last point. */
function postPruneLossDrop(r: AnalysedRun): number {
  const start = [...r.flow].reverse().find((p) => p.afterRound !== undefined);
  const end = r.flow[r.flow.length - 1];
  if (!start || !end || end.step <= start.step) return NaN;
  return ((start.loss - end.loss) / (end.step - start.step)) * 100;
}

export function paperChecks(runs: AnalysedRun[]): ClaimCheck[] {
  const checks: ClaimCheck[] = [];
  const numbersOf = (m: Map<string, number>, suffix = '') => Object.fromEntries([...m].map(([k, v]) => [`${k}${suffix}`, fmt(v)]));

  // 1. Magnitude-pruned models train fastest after pruning (their norm is preserved, §4).
  const trainLoss = new Map([...byMeasure(runs, (r) => [postPruneTrainLoss(r)])].map(([k, v]) => [k, mean(v)]));
  const drop = new Map([...byMeasure(runs, (r) => [postPruneLossDrop(r)])].map(([k, v]) => [k, mean(v.filter(Number.isFinite))]));
  const c1 = extreme(trainLoss, 'mag_based', 'min');
  checks.push({
    id: 'fastest-after-pruning',
    claim: 'magnitude-based pruning gives models whose training loss falls fastest after pruning',
    numbers: { ...numbersOf(trainLoss, ' post-prune train loss'), ...numbersOf(drop, ' loss drop /100 batches'), lowest: c1.best },
    verdict: c1.verdict,
    how: 'mean training loss of the epochs after the last pruning step, mean over seeds (lower = faster); also the analysis-sample loss drop per 100 batches',
  });

  // 2. Loss preservation ranks filters increasingly like magnitude as training proceeds.
  const series = runs.filter((r) => r.flow.length >= 2);
  // A constant ranking is stored as null (JSON has no NaN): left out.
  const first = series.map((r) => r.flow[0].magnitudeSpearman.loss_based).filter(Number.isFinite);
  const last = series.map((r) => r.flow[r.flow.length - 1].magnitudeSpearman.loss_based).filter(Number.isFinite);
  const all = runs.flatMap((r) => r.flow.map((p) => [p.step, p.magnitudeSpearman.loss_based] as const)).filter(([, v]) => Number.isFinite(v));
  checks.push({
    id: 'magnitude-vs-loss-preservation',
    claim: 'the correlation of magnitude with loss preservation grows over training',
    numbers: { 'first point ρ (mean)': fmt(mean(first)), 'last point ρ (mean)': fmt(mean(last)), 'pearson(step, ρ)': fmt(pearson(all.map((a) => a[0]), all.map((a) => a[1]))), points: all.length },
    verdict: series.length === 0 ? 'inconclusive' : mean(last) > mean(first) ? 'reproduced' : 'not reproduced',
    how: 'Spearman of the filters’ ‖W‖₂ with loss_based (Σ|W·ḡ|) at every analysis point, first vs last point of each run',
  });

  // 3. Loss preservation keeps the loss at the pruning step (suits barely trained models).
  const dL = new Map([...byMeasure(runs, (r) => r.prune.map((p) => Math.abs(p.measured.deltaLoss)))].map(([k, v]) => [k, mean(v.filter(Number.isFinite))]));
  const c3 = extreme(dL, 'loss_based', 'min');
  checks.push({
    id: 'loss-preservation-at-step',
    claim: 'loss-preservation pruning changes the loss least at the pruning step',
    numbers: { ...numbersOf(dL, ' |ΔL| at pruning'), smallest: c3.best },
    verdict: c3.verdict,
    how: 'measured |ΔL| on the analysis sample right after each pruning step, mean over steps and seeds',
  });

  // 4. GraSP raises the gradient norm, which hurts.
  const dG = new Map([...byMeasure(runs, (r) => r.prune.map((p) => p.measured.deltaGradSq))].map(([k, v]) => [k, mean(v)]));
  const acc = new Map([...byMeasure(runs, (r) => [Number(r.record.summary?.bestTestAccuracy ?? NaN)])].map(([k, v]) => [k, mean(v)]));
  const c4g = extreme(dG, 'grasp', 'max');
  const c4a = extreme(acc, 'grasp', 'min');
  checks.push({
    id: 'grasp-gradient-norm',
    claim: 'GraSP increases the gradient norm at pruning, and its models end least accurate',
    numbers: { ...numbersOf(dG, ' Δ‖ḡ‖² at pruning'), ...numbersOf(acc, ' best test acc.'), 'largest Δ‖ḡ‖²': c4g.best, 'lowest accuracy': c4a.best },
    verdict: c4g.verdict === 'inconclusive' || c4a.verdict === 'inconclusive' ? 'inconclusive' : c4g.verdict === 'reproduced' && c4a.verdict === 'reproduced' ? 'reproduced' : 'not reproduced',
    how: 'measured change of ‖ḡ‖² (conv weights) right after each pruning step; best test accuracy of the run; means over seeds',
  });

  // 5. Where each measure removes channels (every measure scored at every pruning point).
  const share = new Map<string, number[]>();
  for (const p of runs.flatMap((r) => r.prune))
    p.measures.forEach((m, i) => {
      const counts = p.removedByLayer[i];
      const third = Math.ceil(counts.length / 3);
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      const early = counts.slice(0, third).reduce((a, b) => a + b, 0) / total;
      const lateShare = counts.slice(-third).reduce((a, b) => a + b, 0) / total;
      const prev = share.get(m) ?? [0, 0, 0];
      share.set(m, [prev[0] + early, prev[1] + lateShare, prev[2] + 1]);
    });
  const where = Object.fromEntries(
    [...share].filter(([m]) => ['grasp', 'mag_based', 'loss_based'].includes(m)).flatMap(([m, [e, l, n]]) => [[`${m} first third`, fmt(e / n)], [`${m} last third`, fmt(l / n)]]),
  );
  checks.push({
    id: 'grasp-where',
    claim: 'where GraSP removes channels by layer, against magnitude and loss preservation',
    numbers: where,
    verdict: share.has('grasp') ? 'reported' : 'inconclusive',
    how: 'share of the channels each measure would remove that lie in the first / last third of the filter layers, every measure scored at every pruning point of every run',
  });

  // 6. First-order predictions at the pruning step.
  const prunes = runs.flatMap((r) => r.prune);
  const signAgree = (a: number[], b: number[]) => mean(a.map((x, i) => (Math.sign(x) === Math.sign(b[i]) ? 1 : 0)));
  const pl = prunes.map((p) => p.predicted.deltaLoss);
  const ml = prunes.map((p) => p.measured.deltaLoss);
  const pg = prunes.map((p) => p.predicted.deltaGradSq);
  const mg = prunes.map((p) => p.measured.deltaGradSq);
  checks.push({
    id: 'first-order-predictions',
    claim: 'ΔL ≈ −Σθ_S·ḡ_S and Δ‖ḡ‖² ≈ −2Σθ_S·(Hḡ)_S predict the change at a pruning step',
    numbers: { steps: prunes.length, 'ΔL pearson': fmt(pearson(pl, ml)), 'ΔL sign agreement': fmt(signAgree(pl, ml)), 'Δ‖ḡ‖² pearson': fmt(pearson(pg, mg)), 'Δ‖ḡ‖² sign agreement': fmt(signAgree(pg, mg)) },
    verdict: prunes.length < 2 ? 'inconclusive' : signAgree(pl, ml) >= 0.5 && pearson(pl, ml) > 0 ? 'reproduced' : 'not reproduced',
    how: 'over every pruning step of every run: S the channels the run removed, measured on the analysis sample right after the step',
  });

  // 7. Gradient flow predicts the evolution of ‖θ‖².
  const pts = runs.flatMap((r) => r.flow).filter((p) => p.predictedDeltaThetaSq !== undefined && p.measuredDeltaThetaSq !== undefined);
  const pt = pts.map((p) => p.predictedDeltaThetaSq!);
  const mt = pts.map((p) => p.measuredDeltaThetaSq!);
  checks.push({
    id: 'norm-evolution',
    claim: 'd‖θ‖²/dt = −2θᵀg (gradient flow, with momentum and weight decay) predicts the change of ‖θ‖² between analysis points',
    numbers: { intervals: pts.length, pearson: fmt(pearson(pt, mt)), 'median measured / predicted': fmt(median(mt.map((m, i) => m / pt[i]))), 'sign agreement': fmt(signAgree(pt, mt)) },
    verdict: pts.length < 2 ? 'inconclusive' : pearson(pt, mt) > 0.5 && signAgree(pt, mt) >= 0.5 ? 'reproduced' : 'not reproduced',
    how: 'Δ‖θ‖² of the conv weights between consecutive analysis points (no pruning between) vs −2·η/(1−μ)·k·mean(θᵀḡ + λ‖θ‖²)',
  });
  return checks;
}

function checksTable(checks: ClaimCheck[]): string {
  const t = new Table({ head: ['check', 'verdict', 'numbers'], colWidths: [28, 16, 90], wordWrap: true, ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });
  for (const c of checks)
    t.push([
      `${c.id}\n${c.claim}`,
      c.verdict,
      Object.entries(c.numbers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n'),
    ]);
  return t.toString();
}

function analysisCharts(runs: AnalysedRun[]): [string, VegaLiteSpec, string][] {
  const flowRows: FlowRow[] = runs.flatMap((r) =>
    r.flow.map((p) => ({ run: r.label, measure: r.measure, seed: r.seed, step: p.step, theta_sq: p.total[0], grad_sq: p.total[1], loss: p.loss })),
  );
  const epochLoss = runs.flatMap((r) => r.record.stats.map((s) => ({ measure: r.measure, x: s.epoch, loss: s.trainLoss })));
  const sampleLoss = runs.flatMap((r) => r.flow.filter((p) => p.afterRound === undefined).map((p) => ({ measure: r.measure, x: p.step, loss: p.loss })));
  const heat = (field: 'spearman' | 'jaccard') =>
    runs.flatMap((r) =>
      r.prune.flatMap((p) => p.measures.flatMap((a, i) => p.measures.map((b, j) => ({ panel: `${r.label} round ${p.round}`, a, b, value: p[field][i][j] })))),
    );
  const surviving = runs.flatMap((r) => {
    const before = (r.record.summary?.channelsBefore as number[] | undefined) ?? [];
    const afterC = (r.record.summary?.channelsAfter as number[] | undefined) ?? [];
    return before.map((b, layer) => ({ measure: r.measure, layer, fraction: (afterC[layer] ?? NaN) / b }));
  });
  const predicted = [
    ...runs.flatMap((r) =>
      r.prune.flatMap((p) => [
        { quantity: 'ΔL at pruning', measure: r.measure, predicted: p.predicted.deltaLoss, measured: p.measured.deltaLoss, label: `${r.label} round ${p.round}` },
        { quantity: 'Δ‖ḡ‖² at pruning', measure: r.measure, predicted: p.predicted.deltaGradSq, measured: p.measured.deltaGradSq, label: `${r.label} round ${p.round}` },
      ]),
    ),
    ...runs.flatMap((r) =>
      r.flow
        .filter((p) => p.predictedDeltaThetaSq !== undefined)
        .map((p) => ({ quantity: 'Δ‖θ‖² between analysis points', measure: r.measure, predicted: p.predictedDeltaThetaSq!, measured: p.measuredDeltaThetaSq!, label: `${r.label} step ${p.step}` })),
    ),
  ];
  return [
    ['norms', normEvolutionChart(flowRows), 'Σθ² and Σḡ² of the filter layers’ conv weights on the fixed analysis sample, every k batches.'],
    ['train-loss', lossByMeasureChart(epochLoss, 'epoch', 'Training loss per epoch by measure (mean ± sd over seeds)'), 'From the runs’ epoch records.'],
    ['sample-loss', lossByMeasureChart(sampleLoss, 'training batch', 'Loss on the analysis sample over training by measure (mean ± sd over seeds)'), 'Eval-mode loss at temperature T, every k batches.'],
    ['spearman', correlationHeatmaps(heat('spearman'), 'Spearman rank correlation of every built-in measure, per pruning point'), '“run” is the run’s own estimate (the estimator’s data).'],
    ['jaccard', correlationHeatmaps(heat('jaccard'), 'Jaccard overlap of the channels each measure would remove, per pruning point'), 'At the step’s own pruning ratio.'],
    ['surviving', survivingChannelsChart(surviving), 'From the runs’ summaries (channels after / before, masked ResNet channels excluded).'],
    ['predicted', predictedVsMeasuredChart(predicted, 'Predicted vs measured changes'), 'Dashed: y = x.'],
  ];
}

export function renderAnalysisPage(runs: AnalysedRun[], checks: ClaimCheck[], title: string): string {
  const rows = checks
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.id)}</td><td style="text-align:left">${escapeHtml(c.claim)}</td><td>${escapeHtml(c.verdict)}</td><td style="text-align:left">${escapeHtml(
          Object.entries(c.numbers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('; '),
        )}</td><td style="text-align:left">${escapeHtml(c.how)}</td></tr>`,
    )
    .join('\n');
  const body = `<p>${runs.length} run(s): ${runs.map((r) => escapeHtml(r.label)).join(', ')}; generated ${new Date().toISOString()}.</p>
<table><thead><tr><th>check</th><th>claim</th><th>verdict</th><th>numbers</th><th>how</th></tr></thead><tbody>
${rows}
</tbody></table>`;
  return renderPage(title, body, analysisCharts(runs));
}

export async function runAnalyze(store: RunStore, ids: string[], o: { out?: string; json?: string; title: string }): Promise<{ table: string; html?: string; checks: ClaimCheck[]; runs: AnalysedRun[] }> {
  const runs = await loadAnalysedRuns(store, ids);
  const missing = runs.filter((r) => r.flow.length === 0 && r.prune.length === 0).map((r) => r.record.id);
  if (missing.length === runs.length)
    throw new Error(`no analysis recorded in ${missing.join(', ')}: run with \`analysis: {every_batches: 50}\` in the run file (or --set analysis.every_batches=50)`);
  const checks = paperChecks(runs);
  return { table: checksTable(checks), checks, runs, html: o.out ? renderAnalysisPage(runs, checks, o.title) : undefined };
}
