// @flowprune/common/testing: helpers for tests only (the lint forbids them in production code).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '../../../..');

/**
 * The reference fixtures' folder (docs/reference-fixtures.md): FLOWPRUNE_FIXTURES when set (a
 * hidden set in the same format), else ../shared/fixtures/importance beside the checkout.
 */
export function fixtureRoot(): string {
  return resolve(process.env.FLOWPRUNE_FIXTURES ?? join(REPO_ROOT, '../shared/fixtures/importance'));
}

/**
 * The error of docs/reference-fixtures.md §6: max over layers of max_i |a − e| / max_i |e| (each
 * layer's error relative to its own scale).
 */
export function layerRel(a: number[][], e: number[][]): number {
  assert.equal(a.length, e.length, 'number of layers');
  let worst = 0;
  e.forEach((ev, l) => {
    assert.equal(a[l].length, ev.length, `layer ${l} length`);
    const scale = Math.max(...ev.map(Math.abs));
    const diff = Math.max(...ev.map((x, i) => Math.abs(a[l][i] - x)));
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  });
  return worst;
}

/** The acceptance of docs/reference-fixtures.md §6: rel ≤ 1e-2 for grasp and grad_preserve, ≤ 1e-3 for every other measure. */
export const fixtureTolerance = (measure: string): number => (measure === 'grasp' || measure === 'grad_preserve' ? 1e-2 : 1e-3);

/** One pruning step of `selection_examples` (docs/reference-fixtures.md §5). */
export interface SelectionExample {
  name: string;
  measure: string;
  p_total?: number;
  n_rounds?: number;
  thresholds?: number[];
  round: number;
  ratio: number;
  p_cumulative: number;
  effective_ratio: number;
  n_entries: number;
  n_prune: number;
  prune_counts: number[];
  remaining: number[];
  survivors: number[][];
  pruned_config: unknown;
  effective_config?: unknown;
  masks_zeroed?: Record<string, number[]>;
  boundary_tie: boolean;
  /** Per tensor: [shape, Σx, Σ|x|]. */
  pruned_checksums: Record<string, [number[], number, number]>;
}

/** A fixture network's expected.json (docs/reference-fixtures.md §1–§5): the fields tests read. */
export interface FixtureExpected {
  architecture: string;
  num_classes: number;
  weights_file: string;
  init_weights_file: string | null;
  data_file: string;
  batch_size: number;
  imp_samples: number;
  batches: number[][];
  first_order: { T: number; batches_used: number; images_used: number; batch_weights: number[] };
  hessian: { grasp_T: number; grad_preserve_T: number; n_samples_per_class: number; class_groups: number[][] };
  layers: { conv: string; bn: string; out_channels: number; fan_in: number }[];
  param_count: number;
  flops_ptflops_0_6_2: number;
  measure_params: Record<string, { T?: number }>;
  measures: Record<string, number[][]>;
  per_weight?: { biased_loss_tracked?: { layers: number[]; shapes: number[][]; values: number[][] } };
  selection_examples: SelectionExample[];
}

/** `<fixtureRoot()>/<arch>/expected.json`. */
export function readFixtureExpected(arch: string): FixtureExpected {
  return JSON.parse(readFileSync(join(fixtureRoot(), arch, 'expected.json'), 'utf8')) as FixtureExpected;
}
