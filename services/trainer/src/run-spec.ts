// The shapes of one run, derived here and nowhere else: flowprune.v1.RunSpec → the resolved
// RunConfig (the paper's defaults, every value checked; fields of the same name are copied, and a
// compile-time check keeps the two field lists in step) → the store's record, whose JSON documents
// (spec, summary, resume, events) libs/training's run-document.ts writes and reads back checked.
import { failedPrecondition, invalidArgument } from '@flowprune/grpc';
import type { RunSpec } from '@flowprune/proto';
import type { EpochStat, RoundRecord, RunRecord, RunRecordInput } from '@flowprune/store';
import { readSpec, resolveRunConfig, RunConfigError, RunDocumentError, specDocument, type RunConfig, type RunEventBody } from '@flowprune/training';

/** RunSpec fields that differ from RunConfig's in name or shape, converted by hand below. */
type SpecOnlyField = 'dataset' | 'prunePercent' | 'pretrained';
/** RunConfig fields that no RunSpec field of the same name fills. */
type ConfigOnlyField = 'dataset' | 'pruneRatio';
/** Every other field has the same name (and, checked by resolveRunConfig's parameter type, a compatible type) on both sides. */
type UnpairedField = Exclude<Exclude<keyof RunSpec, SpecOnlyField>, keyof RunConfig> | Exclude<Exclude<keyof RunConfig, ConfigOnlyField>, keyof RunSpec>;
// A field added to RunSpec or RunConfig alone fails to compile here, naming it.
const fieldsPaired: [UnpairedField] extends [never] ? true : UnpairedField = true;
void fieldsPaired;

export function runConfigFromSpec(spec: RunSpec, datasetClasses: number): RunConfig {
  const { dataset, prunePercent, pretrained: _weights, ...sameName } = spec;
  try {
    return resolveRunConfig({ ...sameName, numClasses: spec.numClasses || datasetClasses, dataset: dataset?.name ?? '', pruneRatio: prunePercent / 100 });
  } catch (e) {
    if (e instanceof RunConfigError) throw invalidArgument(`spec.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
}

/** The record a queued run starts as: its resolved config as `spec`, and the fields runs are listed and filtered by. */
export function runRecordInput(cfg: RunConfig, backend: string): RunRecordInput {
  return {
    spec: specDocument(cfg),
    model: cfg.arch,
    dataset: cfg.dataset,
    measure: cfg.measure || undefined,
    pruneRatio: cfg.pruneRatio,
    seed: cfg.seed,
    backend,
    status: 'created',
  };
}

/** One of a stored run's documents read back (run-document.ts); a bad one is FAILED_PRECONDITION naming the run and field. */
export function readStored<T>(record: Pick<RunRecord, 'id'>, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof RunDocumentError) throw failedPrecondition(`run ${record.id}: its stored ${e.message}`);
    throw e;
  }
}

/** The RunConfig a stored run was queued with (the same resolver, so the values are checked again). */
export const runConfigFromRecord = (record: RunRecord): RunConfig => readStored(record, () => readSpec(record.spec));

/** An epoch event as the store's epoch stat (the store's names predate the events'). */
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
