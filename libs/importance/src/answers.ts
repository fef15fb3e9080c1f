// An estimator's answer read against the request's layer manifest: by conv name, never by position,
// every layer exactly once with one finite value per output channel. The estimator may live in
// another team's process and language, so nothing in its answer is trusted.
import type { PrunableLayerInfo } from '@flowprune/models';

export class EstimatorAnswerError extends Error {
  readonly kind = 'failed-precondition';
  constructor(
    message: string,
    /** The manifest layer at fault (its conv name). */
    readonly layer: string,
  ) {
    super(message);
    this.name = 'EstimatorAnswerError';
  }
}

export interface AnsweredLayer {
  conv: string;
  values: readonly number[];
}

/**
 * The answer's vectors in manifest order. `estimator` names the answering service and its address
 * (e.g. "my-team@10.0.0.7:50060"); it starts every error message, followed by the layer at fault.
 */
export function scoresInManifestOrder(manifest: readonly PrunableLayerInfo[], answer: readonly AnsweredLayer[], estimator: string): number[][] {
  const fail = (layer: string, what: string) => new EstimatorAnswerError(`estimator ${estimator} answered badly for layer "${layer}": ${what}`, layer);
  const byConv = new Map<string, AnsweredLayer>();
  const wanted = new Set(manifest.map((l) => l.conv));
  for (const l of answer) {
    if (!wanted.has(l.conv)) throw fail(l.conv, `not a layer of the request's manifest (${manifest.length} layers, e.g. "${manifest[0]?.conv ?? ''}")`);
    if (byConv.has(l.conv)) throw fail(l.conv, 'answered more than once; answer each manifest layer exactly once');
    byConv.set(l.conv, l);
  }
  return manifest.map((m) => {
    const l = byConv.get(m.conv);
    if (!l) throw fail(m.conv, 'missing from the answer; answer each manifest layer exactly once');
    if (l.values.length !== m.outChannels) throw fail(m.conv, `${l.values.length} values for ${m.outChannels} output channels`);
    const bad = l.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw fail(m.conv, `channel ${bad} is ${l.values[bad]}; every value must be finite`);
    return [...l.values];
  });
}
