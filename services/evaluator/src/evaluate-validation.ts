// EvaluateRequest checked before a model is built: each bad field becomes an INVALID_ARGUMENT naming
// it. proto3 zeros mean the documented defaults (batch 128, T 5, the test split).
import { checkCount, checkEnum, checkRange, checkText, checkWith, invalidArgument } from '@flowprune/grpc';
import { checkFiniteWeights } from '@flowprune/models';
import { Split, type EvaluateRequest, type LatencyRequest } from '@flowprune/proto';

export interface EvaluatePlan {
  dataset: string;
  split: Split.SPLIT_TRAIN | Split.SPLIT_TEST;
  batchSize: number;
  temperature: number;
  maxSamples: number;
  /** Latency to measure, when asked for. */
  latency?: { batches: number[]; runs: number };
}

export function validateEvaluateRequest(req: EvaluateRequest): EvaluatePlan {
  if (!req.dataset?.name) throw invalidArgument('dataset.name', 'is required (a dataset of the data-loader)');
  const dataset = checkText('dataset.name', req.dataset.name);
  const batchSize = checkCount('batch_size', req.batchSize || 128, 1, 4096, '0 means 128');
  // NaN is not "unset": only an exact 0 takes the default.
  const temperature = checkRange('temperature', req.temperature === 0 ? 5 : req.temperature, 1e-3, 1e4);
  const split = checkEnum('split', req.split, Split) === Split.SPLIT_TRAIN ? Split.SPLIT_TRAIN : Split.SPLIT_TEST;
  const inline = req.model?.safetensors;
  if (inline?.length) checkWith('model', () => checkFiniteWeights(inline, 'model'));
  return { dataset, split, batchSize, temperature, maxSamples: req.maxSamples, ...(req.latency ? { latency: latencyPlan(req.latency) } : {}) };
}

function latencyPlan(req: LatencyRequest): { batches: number[]; runs: number } {
  if (req.batchSizes.length === 0 || req.batchSizes.length > 8) throw invalidArgument('latency.batch_sizes', `needs 1..8 batch sizes, got ${req.batchSizes.length}`);
  const batches = req.batchSizes.map((b, i) => checkCount(`latency.batch_sizes[${i}]`, b, 1, 1024));
  return { batches, runs: checkCount('latency.runs', req.runs || 10, 1, 1000, '0 means 10') };
}
