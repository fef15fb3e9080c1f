// flowprune.v1.RunSpec → the resolved RunConfig (the paper's defaults, every value checked).
import { invalidArgument } from '@flowprune/grpc';
import type { RunSpec } from '@flowprune/proto';
import { resolveRunConfig, RunConfigError, type RunConfig } from '@flowprune/training';

export function runConfigFromSpec(spec: RunSpec, datasetClasses: number): RunConfig {
  try {
    return resolveRunConfig({
      name: spec.name,
      arch: spec.arch,
      numClasses: spec.numClasses || datasetClasses,
      dataset: spec.dataset?.name ?? '',
      seed: spec.seed,
      measure: spec.measure,
      measureParams: spec.measureParams,
      pruneRatio: spec.prunePercent / 100,
      nRounds: spec.nRounds,
      thresholds: spec.thresholds,
      temperature: spec.temperature,
      impSamples: spec.impSamples,
      warmupEpochs: spec.warmupEpochs,
      lrPrune: spec.lrPrune,
      momentum: spec.momentum,
      weightDecay: spec.weightDecay,
      schedule: spec.schedule,
      batchSize: spec.batchSize,
      evalBatchSize: spec.evalBatchSize,
      trainSamples: spec.trainSamples,
      testSamples: spec.testSamples,
      augment: spec.augment,
      preserveMomentum: spec.preserveMomentum,
      graspTemperature: spec.graspTemperature,
      trackImportance: spec.trackImportance,
      trackBatches: spec.trackBatches,
      alpha: spec.alpha,
      useL2: spec.useL2,
      useInit: spec.useInit,
      analysis: spec.analysis,
    });
  } catch (e) {
    if (e instanceof RunConfigError) throw invalidArgument(`spec.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
}
