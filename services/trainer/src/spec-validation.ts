// StartRun and run-id checks made before the trainer asks anyone anything or records anything: a
// bad request creates no run. These bound what resolveRunConfig (libs/training) leaves open on the
// wire: NaN/±Inf floats, absurd counts and lengths, non-finite inline weights.
import { checkCount, checkFiniteMap, checkRange, checkText, checkWith, invalidArgument } from '@flowprune/grpc';
import { checkFiniteWeights } from '@flowprune/models';
import type { RunSpec } from '@flowprune/proto';
import { validateRunId } from '@flowprune/store';

/** Far beyond any study (the paper trains 160 epochs); more is a typo that would hold the trainer for years. */
const MAX_EPOCHS = 10_000;
const MAX_ROUNDS = 1000;
const MAX_PHASES = 64;

export function validateRunSpec(spec: RunSpec | undefined): RunSpec {
  if (!spec) throw invalidArgument('spec', 'is required');
  checkText('spec.name', spec.name);
  checkText('spec.arch', spec.arch);
  checkText('spec.measure', spec.measure);
  if (spec.dataset) checkText('spec.dataset.name', spec.dataset.name);
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0) throw invalidArgument('spec.seed', `must be a non-negative integer, got ${spec.seed}`);
  checkCount('spec.num_classes', spec.numClasses, 0, 100_000, '0 means the dataset’s class count');
  checkFiniteMap('spec.measure_params', spec.measureParams);
  checkRange('spec.prune_percent', spec.prunePercent, 0, 95);
  checkCount('spec.n_rounds', spec.nRounds, 0, MAX_ROUNDS);
  if (spec.thresholds.length > MAX_ROUNDS) throw invalidArgument('spec.thresholds', `has ${spec.thresholds.length} entries; the limit is ${MAX_ROUNDS}`);
  spec.thresholds.forEach((t, i) => checkRange(`spec.thresholds[${i}]`, t, Number.MIN_VALUE, 95));
  checkRange('spec.temperature', spec.temperature, 1e-3, 1e4, true);
  checkRange('spec.grasp_temperature', spec.graspTemperature, 1e-3, 1e4, true);
  checkCount('spec.imp_samples', spec.impSamples, 0, 10_000_000, '0 means 2560');
  checkCount('spec.warmup_epochs', spec.warmupEpochs, 0, MAX_EPOCHS);
  checkRange('spec.lr_prune', spec.lrPrune, Number.MIN_VALUE, 10, true);
  checkRange('spec.momentum', spec.momentum, 0, 1);
  checkRange('spec.weight_decay', spec.weightDecay, 0, 1);
  checkRange('spec.alpha', spec.alpha, 0, 1);
  if (spec.schedule.length > MAX_PHASES) throw invalidArgument('spec.schedule', `has ${spec.schedule.length} phases; the limit is ${MAX_PHASES}`);
  let epochs = spec.warmupEpochs;
  spec.schedule.forEach((p, i) => {
    checkRange(`spec.schedule[${i}].lr`, p.lr, Number.MIN_VALUE, 10);
    epochs += checkCount(`spec.schedule[${i}].epochs`, p.epochs, 0, MAX_EPOCHS);
  });
  if (epochs > MAX_EPOCHS) throw invalidArgument('spec.schedule', `adds up to ${epochs} epochs; the limit is ${MAX_EPOCHS}`);
  checkCount('spec.batch_size', spec.batchSize, 0, 4096, '0 means 128');
  checkCount('spec.eval_batch_size', spec.evalBatchSize, 0, 4096, '0 means 128');
  checkCount('spec.track_batches', spec.trackBatches, 0, 100_000, '0 means 20');
  const inline = spec.pretrained?.safetensors;
  if (inline?.length) checkWith('spec.pretrained', () => checkFiniteWeights(inline, 'spec.pretrained'));
  return spec;
}

/** A run id as the store makes them; anything else (paths, huge strings) is refused naming run_id. */
export function checkRunId(id: string): string {
  if (!id) throw invalidArgument('run_id', 'is required');
  checkWith('run_id', () => validateRunId(id));
  return id;
}
