import type { RunSpec } from '@flowprune/proto';

/** A RunSpec with proto3 zero values (= the paper's defaults, see trainer.proto) overlaid by `over`. */
export function runSpec(over: Partial<RunSpec>): RunSpec {
  return {
    name: '',
    arch: '',
    numClasses: 0,
    dataset: undefined,
    seed: 0,
    measure: '',
    measureParams: {},
    prunePercent: 0,
    nRounds: 0,
    thresholds: [],
    temperature: 0,
    impSamples: 0,
    warmupEpochs: 0,
    lrPrune: 0,
    momentum: 0,
    weightDecay: 0,
    schedule: [],
    batchSize: 0,
    evalBatchSize: 0,
    trainSamples: 0,
    testSamples: 0,
    preserveMomentum: false,
    graspTemperature: 0,
    trackImportance: false,
    trackBatches: 0,
    alpha: 0,
    useL2: false,
    useInit: false,
    ...over,
  };
}
