// Vega-Lite specs of `flowprune analyze`: the gradient-flow analysis of a set of runs. They take
// plain rows, which the analysis builds from the runs' stored analysis records.
import type { VegaLiteSpec } from './charts.js';

export interface FlowRow {
  run: string;
  measure: string;
  seed: number;
  step: number;
  theta_sq: number;
  grad_sq: number;
  loss: number;
}

/** ‖θ‖² and ‖ḡ‖² of the filter layers' conv weights over training, one line per run, coloured by measure. */
export function normEvolutionChart(rows: FlowRow[]): VegaLiteSpec {
  const panel = (field: string, title: string) => ({
    width: 560,
    height: 220,
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training batch' },
      y: { field, type: 'quantitative', title, scale: { type: 'log' } },
      color: { field: 'measure', type: 'nominal' },
      detail: { field: 'run', type: 'nominal' },
      tooltip: [{ field: 'run' }, { field: 'step' }, { field, format: '.4g' }],
    },
  });
  return {
    title: 'Norm and gradient-norm evolution (conv weights, analysis sample)',
    data: { values: rows },
    hconcat: [panel('theta_sq', '‖θ‖²'), panel('grad_sq', '‖ḡ‖²')],
  };
}

/** Loss over training by measure: mean ± one standard deviation over seeds. */
export function lossByMeasureChart(rows: { measure: string; x: number; loss: number }[], xTitle: string, title: string): VegaLiteSpec {
  return {
    title,
    width: 640,
    height: 300,
    data: { values: rows },
    encoding: { x: { field: 'x', type: 'quantitative', title: xTitle }, color: { field: 'measure', type: 'nominal' } },
    layer: [
      { mark: { type: 'errorband', extent: 'stdev', opacity: 0.25 }, encoding: { y: { field: 'loss', type: 'quantitative', title: 'loss' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { aggregate: 'mean', field: 'loss', type: 'quantitative', title: 'loss (mean ± sd over seeds)' } } },
    ],
  };
}

/** One Spearman heat map per (run, pruning round): every built-in measure against every other. */
export function correlationHeatmaps(cells: { panel: string; a: string; b: string; value: number }[], title: string): VegaLiteSpec {
  return {
    title,
    data: { values: cells },
    facet: { field: 'panel', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 220,
      height: 220,
      layer: [
        { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1] }, title: 'ρ' } } },
        { mark: { type: 'text', fontSize: 7 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.2f' } } },
      ],
      encoding: {
        x: { field: 'a', type: 'nominal', title: null, sort: null },
        y: { field: 'b', type: 'nominal', title: null, sort: null },
        tooltip: [{ field: 'a' }, { field: 'b' }, { field: 'value', format: '.3f' }],
      },
    },
  };
}

/** Surviving fraction of each filter layer's channels at the end, by measure (mean over seeds). */
export function survivingChannelsChart(rows: { measure: string; layer: number; fraction: number }[]): VegaLiteSpec {
  return {
    title: 'Surviving channels by layer (fraction of the original width, mean over seeds)',
    width: 720,
    height: 260,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'filter layer' },
      xOffset: { field: 'measure', type: 'nominal' },
      y: { aggregate: 'mean', field: 'fraction', type: 'quantitative', title: 'surviving fraction', axis: { format: '%' } },
      color: { field: 'measure', type: 'nominal' },
      tooltip: [{ field: 'measure' }, { field: 'layer' }, { aggregate: 'mean', field: 'fraction', format: '.1%' }],
    },
  };
}

/** Predicted against measured changes, with the y = x line. */
export function predictedVsMeasuredChart(rows: { quantity: string; measure: string; predicted: number; measured: number; label: string }[], title: string): VegaLiteSpec {
  return {
    title,
    data: { values: rows },
    facet: { field: 'quantity', type: 'nominal', title: null },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 300,
      height: 260,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'predicted', type: 'quantitative', title: 'predicted' },
            y: { field: 'measured', type: 'quantitative', title: 'measured' },
            color: { field: 'measure', type: 'nominal' },
            tooltip: [{ field: 'label' }, { field: 'predicted', format: '.4g' }, { field: 'measured', format: '.4g' }],
          },
        },
        {
          mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
          transform: [{ fold: ['predicted', 'measured'], as: ['which', 'v'] }],
          encoding: { x: { field: 'v', type: 'quantitative' }, y: { field: 'v', type: 'quantitative' } },
        },
      ],
    },
  };
}
