// The shapes of one run, derived here and nowhere else: flowprune.v1.RunSpec → the resolved
// RunConfig (the paper's defaults, every value checked) → the store's record (whose `spec` is that
// RunConfig as JSON, read back through the same resolver) and its epoch stats / round records.
import { failedPrecondition, invalidArgument } from '@flowprune/grpc';
import type { RunSpec } from '@flowprune/proto';
import type { EpochStat, RoundRecord, RunRecord, RunRecordInput } from '@flowprune/store';
import { resolveRunConfig, RunConfigError, type RunConfig, type RunEventBody } from '@flowprune/training';

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

/** The record a queued run starts as: its resolved config as `spec`, and the fields runs are listed by. */
export function runRecordInput(cfg: RunConfig, backend: string): RunRecordInput {
  return {
    spec: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
    model: cfg.arch,
    dataset: cfg.dataset,
    measure: cfg.measure || undefined,
    pruneRatio: cfg.pruneRatio,
    seed: cfg.seed,
    backend,
    status: 'created',
  };
}

/** The RunConfig a stored run was queued with (the same resolver, so the values are checked again). */
export function runConfigFromRecord(record: RunRecord): RunConfig {
  try {
    return resolveRunConfig(record.spec as unknown as Parameters<typeof resolveRunConfig>[0]);
  } catch (e) {
    if (e instanceof RunConfigError) throw failedPrecondition(`run ${record.id}: its stored spec is invalid: ${e.message}`);
    throw e;
  }
}

/** An epoch event as the store's epoch stat. */
export function epochStatOf(e: Extract<RunEventBody, { kind: 'epoch' }>): EpochStat {
  return {
    phase: e.phase,
    epoch: e.epoch,
    lr: e.lr,
    trainLoss: e.trainLoss,
    trainAcc: e.trainAccuracy,
    testLoss: e.testLoss,
    testAcc: e.testAccuracy,
    seconds: e.seconds,
  };
}

/** A round event as the store's round record (layers by filter-layer index). */
export function roundRecordOf(e: Extract<RunEventBody, { kind: 'round' }>): RoundRecord {
  return {
    round: e.round,
    prunedFraction: e.prunedFraction,
    remainingChannels: e.channels.map((remaining, layer) => ({ layer: String(layer), remaining })),
    accuracyBeforeFineTune: e.accuracyBeforeFinetune,
  };
}
