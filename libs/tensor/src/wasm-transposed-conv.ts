// Input gradient of a strided convolution ("transposed convolution") as stride-1 forward
// convolutions, so it runs on XNNPACK instead of wasm's scalar Conv2DBackpropInput loop.
//
// Stride s splits dx into s*s interleaved phases: dx[s*q + r] only receives taps
// kh = (r + padTop) mod s, +s, +2s, ... With those taps (spatially flipped) as a small filter, each
// phase is a plain stride-1 correlation over dy. No zeros are inserted, so no FLOPs are wasted;
// for stride 1 this is the familiar "conv of padded dy with the flipped filter".
import * as tf from '@tensorflow/tfjs-core';
import { cropForConv, type Pair } from './wasm-kernel-util.js';

/** How one phase along one spatial axis is computed. */
export interface AxisPhase {
  /** First filter tap feeding this phase; the others follow at +stride. */
  firstTap: number;
  /** Number of taps feeding this phase; 0 means the phase only ever receives zeros. */
  taps: number;
  /** Signed padding of dy (negative = crop) so the stride-1 correlation yields `length` rows. */
  pad: Pair;
}

/**
 * Phases along one axis: dx has `inLen` rows, dy `outLen`, the forward conv used `filterLen` taps,
 * `stride` and `padBefore` leading zero rows. Every phase yields `length` = ceil(inLen/stride) rows
 * (the interleaved result is cropped to inLen afterwards).
 */
export function axisPhases(
  inLen: number,
  outLen: number,
  filterLen: number,
  stride: number,
  padBefore: number,
): { length: number; phases: AxisPhase[] } {
  const length = Math.ceil(inLen / stride);
  const phases: AxisPhase[] = [];
  for (let r = 0; r < stride; r++) {
    const firstTap = (r + padBefore) % stride;
    const taps = firstTap < filterLen ? Math.ceil((filterLen - firstTap) / stride) : 0;
    // dx[s*q + r] = sum_m dy[q + d - m] * w[firstTap + s*m], m = 0..taps-1
    const d = (r + padBefore - firstTap) / stride;
    phases.push({ firstTap, taps, pad: [taps - 1 - d, length + d - outLen] });
  }
  return { length, phases };
}

/**
 * Runs one phase: a stride-1 correlation of (padded/cropped) dy with the flipped taps
 * w[firstTap::stride] of each spatial axis. Returns [N, rows, cols, inChannels].
 */
export type PhaseConv = (dy: tf.Tensor4D, firstTap: Pair, stride: Pair, pad: [[0, 0], Pair, Pair, [0, 0]]) => tf.Tensor4D;

/** dx of shape inputShape from dy; the caller supplies the per-phase convolution. Call inside tf.tidy. */
export function transposedConv(
  dy: tf.Tensor4D,
  inputShape: [number, number, number, number],
  filterSize: Pair,
  strides: Pair,
  padTopLeft: Pair,
  phaseConv: PhaseConv,
): tf.Tensor4D {
  const [n, inH, inW, inC] = inputShape;
  const rows = axisPhases(inH, dy.shape[1], filterSize[0], strides[0], padTopLeft[0]);
  const cols = axisPhases(inW, dy.shape[2], filterSize[1], strides[1], padTopLeft[1]);
  const phase = (pr: AxisPhase, pc: AxisPhase): tf.Tensor4D => {
    if (pr.taps === 0 || pc.taps === 0) return tf.zeros([n, rows.length, cols.length, inC]);
    const { t, pad } = cropForConv(dy, pr.pad, pc.pad);
    return phaseConv(t, [pr.firstTap, pc.firstTap], strides, pad);
  };
  const first = rows.phases[0];
  const firstCol = cols.phases[0];
  if (strides[0] === 1 && strides[1] === 1 && first && firstCol) return phase(first, firstCol);

  // Interleave: out[n, s*q + r, s*p + c] = phase(r, c)[n, q, p]. Stacking on a new axis after the
  // spatial one and reshaping interleaves without any scatter.
  const rowBlocks = rows.phases.map((pr) => {
    const colPhases = cols.phases.map((pc) => phase(pr, pc));
    return tf.reshape<tf.Rank.R4>(tf.stack(colPhases, 3), [n, rows.length, cols.length * strides[1], inC]);
  });
  const full = tf.reshape<tf.Rank.R4>(tf.stack(rowBlocks, 2), [n, rows.length * strides[0], cols.length * strides[1], inC]);
  if (full.shape[1] === inH && full.shape[2] === inW) return full;
  return tf.slice(full, [0, 0, 0, 0], [n, inH, inW, inC]);
}
