// Vega-Lite specs of the report's plots, built from run records.
import type { RunRecord } from '@flowprune/store';

export type VegaLiteSpec = Record<string, unknown>;

const label = (r: RunRecord) => `${r.id} ${r.model}/${r.measure ?? 'base'}${r.pruneRatio ? ` ${Math.round(r.pruneRatio * 100)}%` : ''}`;

/** Train and test accuracy per epoch, one colour per run, dashed for train. */
export function accuracyChart(runs: RunRecord[]): VegaLiteSpec {
  const values = runs.flatMap((r) =>
    r.stats.flatMap((s, i) => [
      { run: label(r), epoch: i, phase: s.phase, split: 'train', accuracy: s.trainAcc },
      ...(s.testAcc !== undefined ? [{ run: label(r), epoch: i, phase: s.phase, split: 'test', accuracy: s.testAcc }] : []),
    ]),
  );
  return {
    title: 'Accuracy per epoch',
    width: 640,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '%' }, scale: { domain: [0, 1] } },
      color: { field: 'run', type: 'nominal', legend: { orient: 'bottom', columns: 1 } },
      strokeDash: { field: 'split', type: 'nominal', sort: ['test', 'train'] },
      tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'phase' }, { field: 'split' }, { field: 'accuracy', format: '.2%' }],
    },
  };
}

/** Remaining channels per filter layer after each round (round 0 = the unpruned network). */
export function channelsChart(runs: RunRecord[]): VegaLiteSpec {
  const values = runs.flatMap((r) => {
    const before = (r.summary?.channelsBefore as number[] | undefined) ?? [];
    const base = before.map((c, layer) => ({ run: label(r), round: 0, layer, channels: c }));
    return [
      ...base,
      ...r.rounds.flatMap((rd) => rd.remainingChannels.map((l) => ({ run: label(r), round: rd.round, layer: Number(l.layer), channels: l.remaining }))),
    ];
  });
  return {
    title: 'Remaining channels per layer, per round',
    data: { values },
    facet: { row: { field: 'run', type: 'nominal', title: null } },
    spec: {
      width: 640,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'layer', type: 'ordinal', title: 'filter layer' },
        y: { field: 'channels', type: 'quantitative', title: 'channels' },
        color: { field: 'round', type: 'ordinal', scale: { scheme: 'viridis' } },
        tooltip: [{ field: 'layer' }, { field: 'round' }, { field: 'channels' }],
      },
    },
  };
}

/** Best test accuracy against the pruned network's FLOPs, one point per run. */
export function accuracyFlopsChart(runs: RunRecord[]): VegaLiteSpec {
  const values = runs
    .filter((r) => r.summary && typeof r.summary.flopsAfter === 'number')
    .map((r) => ({
      run: label(r),
      model: r.model,
      measure: r.measure ?? 'base',
      flops: r.summary!.flopsAfter as number,
      accuracy: (r.summary!.bestTestAccuracy ?? r.summary!.accuracyAfterFinetune) as number,
    }));
  return {
    title: 'Accuracy against FLOPs',
    width: 640,
    height: 300,
    data: { values },
    mark: { type: 'point', filled: true, size: 120 },
    encoding: {
      x: { field: 'flops', type: 'quantitative', title: 'FLOPs (ptflops MACs) after pruning', axis: { format: '.3s' }, scale: { zero: false } },
      y: { field: 'accuracy', type: 'quantitative', title: 'best test accuracy', axis: { format: '%' } },
      color: { field: 'measure', type: 'nominal' },
      shape: { field: 'model', type: 'nominal' },
      tooltip: [{ field: 'run' }, { field: 'flops', format: ',' }, { field: 'accuracy', format: '.2%' }],
    },
  };
}

interface LatencyPoint {
  engine: string;
  batchSize: number;
  p50Ms: number;
}

/** The smallest batch size's measurements, one per engine (the run summary's `latency`). */
const smallestBatch = (list: unknown): LatencyPoint[] => {
  const all = Array.isArray(list) ? (list as LatencyPoint[]).filter((l) => typeof l.p50Ms === 'number') : [];
  const batch = Math.min(...all.map((l) => l.batchSize));
  return all.filter((l) => l.batchSize === batch);
};

/**
 * Accuracy against measured latency (p50, smallest measured batch), beside accuracy against FLOPs:
 * one point per run and engine for the final model, and one for the unpruned model it started from.
 */
export function accuracyLatencyChart(runs: RunRecord[]): VegaLiteSpec {
  const values = runs.flatMap((r) => {
    const s = r.summary;
    const latency = s?.latency as { before?: unknown; after?: unknown } | undefined;
    if (!s || !latency) return [];
    const point = (stage: string, accuracy: unknown) => (l: LatencyPoint) => ({
      run: label(r),
      model: r.model,
      measure: stage === 'unpruned' ? 'unpruned' : (r.measure ?? 'base'),
      engine: l.engine,
      batch: l.batchSize,
      latency: l.p50Ms,
      accuracy: accuracy as number,
    });
    return [
      ...smallestBatch(latency.before).map(point('unpruned', s.accuracyBeforePruning)),
      ...smallestBatch(latency.after).map(point('pruned', s.bestTestAccuracy ?? s.accuracyAfterFinetune)),
    ];
  });
  return {
    title: 'Accuracy against measured latency',
    width: 640,
    height: 300,
    data: { values },
    mark: { type: 'point', filled: true, size: 120 },
    encoding: {
      x: { field: 'latency', type: 'quantitative', title: 'p50 latency (ms), smallest measured batch', scale: { zero: false } },
      y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (unpruned: before pruning; pruned: best)', axis: { format: '%' } },
      color: { field: 'measure', type: 'nominal' },
      shape: { field: 'engine', type: 'nominal' },
      tooltip: [{ field: 'run' }, { field: 'engine' }, { field: 'batch' }, { field: 'latency', format: '.2f' }, { field: 'accuracy', format: '.2%' }],
    },
  };
}
