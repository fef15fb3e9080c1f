// Applies a surgery plan to PyTorch-layout tensors (weights or optimizer buffers).
import type { SafeTensor, StateDict } from '@flowprune/models';
import type { TensorPlan } from './plan.js';

/** Selects rows (dim 0) and columns (dim 1) of a PyTorch-layout float tensor; optionally zeroes rows. */
export function applyTensorPlan(t: SafeTensor, plan: TensorPlan | undefined, zero: boolean): SafeTensor {
  if (t.dtype !== 'F32' || !plan) return t;
  const src = t.data as Float32Array;
  const shape = t.shape;
  const rows = plan.rows ?? range(shape[0] ?? 1);
  const cols = shape.length >= 2 ? (plan.cols ?? range(shape[1])) : [0];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const srcCols = shape.length >= 2 ? shape[1] : 1;
  const out = new Float32Array(rows.length * cols.length * inner);
  rows.forEach((r, ri) => {
    cols.forEach((c, ci) => {
      const from = (r * srcCols + c) * inner;
      out.set(src.subarray(from, from + inner), (ri * cols.length + ci) * inner);
    });
  });
  if (zero && plan.zeroRows?.length) {
    const rowIndex = new Map(rows.map((r, i) => [r, i]));
    const rowLen = cols.length * inner;
    for (const r of plan.zeroRows) {
      const ri = rowIndex.get(r);
      if (ri !== undefined) out.fill(0, ri * rowLen, (ri + 1) * rowLen);
    }
  }
  const newShape = [...shape];
  if (shape.length >= 1) newShape[0] = rows.length;
  if (shape.length >= 2) newShape[1] = cols.length;
  return { dtype: 'F32', shape: newShape, data: out };
}

/** The pruned state_dict: every tensor restricted by its plan; BatchNorm counters restart at 0. */
export function applyPlanToStateDict(sd: StateDict, plans: Map<string, TensorPlan>): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of sd) {
    if (name.endsWith('num_batches_tracked')) out.set(name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
    else out.set(name, applyTensorPlan(t, plans.get(name), true));
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
