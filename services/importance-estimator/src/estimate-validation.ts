// EstimateRequest checks that need no model or data: each bad field becomes an INVALID_ARGUMENT
// naming it. The measure's own parameter ranges and the batches' contents are checked by
// libs/importance (resolveParams, checkBatches) once the measure and model are known.
import { checkFiniteMap, checkText, checkWith, invalidArgument } from '@flowprune/grpc';
import { checkFiniteWeights } from '@flowprune/models';
import type { EstimateRequest, ModelRef } from '@flowprune/proto';

/** More inline batches than this is a misuse: send a dataset name instead. */
export const MAX_INLINE_BATCHES = 1024;

/** Inline weights must be finite (a reference to the store is read and trusted later). */
export function checkInlineModel(field: string, ref: ModelRef | undefined): void {
  const bytes = ref?.safetensors;
  if (bytes?.length) checkWith(field, () => checkFiniteWeights(bytes, field));
}

export function validateEstimateRequest(req: EstimateRequest, offers: readonly string[]): void {
  if (!req.measure) throw invalidArgument('measure', `is required; this estimator offers ${offers.join(', ')}`);
  checkText('measure', req.measure);
  checkSamplesAndModels(req);
}

/** The fields Estimate and ComputeFlow share: parameters, the sample source, the inline models. */
export function checkSamplesAndModels(req: Pick<EstimateRequest, 'params' | 'dataset' | 'batches' | 'model' | 'initModel'>): void {
  checkFiniteMap('params', req.params);
  if (req.dataset) checkText('dataset.name', req.dataset.name);
  if (req.batches.length > MAX_INLINE_BATCHES)
    throw invalidArgument('batches', `has ${req.batches.length} batches; the limit is ${MAX_INLINE_BATCHES} (name a dataset for larger samples)`);
  checkInlineModel('model', req.model);
  checkInlineModel('init_model', req.initModel);
}
