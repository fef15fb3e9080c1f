// A resolved run: the paper's defaults filled in, every value checked (docs/pruning-semantics.md §1, §2, §9).
import { isTrackable, knownMeasure, TRACKABLE_MEASURES } from '@flowprune/importance';
import { ARCH_NAMES, buildNetwork, GRAPH_ARCH, type ArchName, type Network } from '@flowprune/models';
import { GENERIC_DEFAULTS, genericOptionsProblem, type GroupAggregate } from '@flowprune/pruning';

export interface LrPhase {
  lr: number;
  epochs: number;
}

export interface RunConfig {
  name: string;
  /** A built-in architecture, or GRAPH_ARCH: an imported model, whose graph travels as the run's starting weights. */
  arch: ArchName | typeof GRAPH_ARCH;
  numClasses: number;
  dataset: string;
  seed: number;
  /** Empty: base training, no pruning. */
  measure: string;
  measureParams: Record<string, number>;
  /** p_total in [0, 0.95]. */
  pruneRatio: number;
  nRounds: number;
  thresholds: number[];
  temperature: number;
  impSamples: number;
  warmupEpochs: number;
  lrPrune: number;
  momentum: number;
  weightDecay: number;
  schedule: LrPhase[];
  batchSize: number;
  evalBatchSize: number;
  trainSamples: number;
  testSamples: number;
  augment: boolean;
  /** Carry SGD momentum across pruning steps (the paper's preserve_moment). */
  preserveMomentum: boolean;
  /** Temperature of the Hessian-gradient measures (forced to 1 for grad_preserve, quirk Q5). */
  graspTemperature: number;
  /** Track importance over the last `trackBatches` minibatches of each round (EMA weight `alpha`). */
  trackImportance: boolean;
  trackBatches: number;
  alpha: number;
  useL2: boolean;
  /** Bias measures towards small distance from θ₀, pruned alongside the model. */
  useInit: boolean;
  /** Opt-in gradient-flow analysis (flow-analysis.ts); absent = off. */
  analysis?: AnalysisConfig;
  /** The generic pruning policy's settings (imported models only; libs/pruning generic.ts). */
  aggregate: GroupAggregate;
  maxRatio: number;
  roundTo: number;
}

export interface AnalysisConfig {
  /** Gradient-flow quantities every this many training batches (0 = only at pruning steps). */
  everyBatches: number;
  /** The training split's first `samples` images, unshuffled and unaugmented, are what the analysis reads. */
  samples: number;
  /** θᵀHḡ at the points every this many batches too, a multiple of everyBatches (0 = only right after pruning steps). */
  hessianEveryBatches: number;
}

const DEFAULT_ANALYSIS_SAMPLES = 128;

const PAPER_SCHEDULE: LrPhase[] = [
  { lr: 0.1, epochs: 80 },
  { lr: 0.01, epochs: 40 },
  { lr: 0.001, epochs: 40 },
];

export class RunConfigError extends Error {
  readonly kind = 'invalid-argument';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RunConfigError';
  }
}

/** Fills defaults (zero/empty = the paper's value) and rejects invalid combinations. */
export function resolveRunConfig(
  input: Omit<Partial<RunConfig>, 'arch' | 'aggregate' | 'analysis'> & {
    arch: string;
    dataset: string;
    numClasses: number;
    aggregate?: string;
    analysis?: Pick<AnalysisConfig, 'everyBatches'> & Partial<AnalysisConfig>;
  },
): RunConfig {
  const pick = <T>(v: T | undefined, d: T): T => (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0) ? d : v);
  if (!(ARCH_NAMES as readonly string[]).includes(input.arch) && input.arch !== GRAPH_ARCH)
    throw new RunConfigError(
      'arch',
      `unknown architecture "${input.arch}"; choose one of ${ARCH_NAMES.join(', ')}, or run an imported model (its safetensors from \`flowprune import\` as the starting weights, arch left empty)`,
    );
  if (!input.dataset) throw new RunConfigError('dataset', 'is required (a dataset name the data-loader serves)');
  const cfg: RunConfig = {
    name: input.name ?? '',
    arch: input.arch as RunConfig['arch'],
    numClasses: input.numClasses,
    dataset: input.dataset,
    seed: input.seed ?? 0,
    measure: input.measure ?? '',
    measureParams: input.measureParams ?? {},
    pruneRatio: input.pruneRatio ?? 0,
    nRounds: input.nRounds ?? 0,
    thresholds: input.thresholds ?? [],
    temperature: pick(input.temperature, 5),
    impSamples: pick(input.impSamples, 2560),
    warmupEpochs: input.warmupEpochs ?? 0,
    lrPrune: pick(input.lrPrune, 0.1),
    momentum: pick(input.momentum, 0.9),
    weightDecay: pick(input.weightDecay, 1e-4),
    schedule: pick(input.schedule, PAPER_SCHEDULE),
    batchSize: pick(input.batchSize, 128),
    evalBatchSize: pick(input.evalBatchSize, 128),
    trainSamples: input.trainSamples ?? 0,
    testSamples: input.testSamples ?? 0,
    augment: input.augment ?? true,
    preserveMomentum: input.preserveMomentum ?? false,
    graspTemperature: pick(input.graspTemperature, 200),
    trackImportance: input.trackImportance ?? false,
    trackBatches: pick(input.trackBatches, 20),
    alpha: pick(input.alpha, 0.8),
    useL2: input.useL2 ?? false,
    useInit: input.useInit ?? false,
    analysis: input.analysis
      ? {
          everyBatches: input.analysis.everyBatches,
          samples: pick(input.analysis.samples, DEFAULT_ANALYSIS_SAMPLES),
          hessianEveryBatches: input.analysis.hessianEveryBatches ?? 0,
        }
      : undefined,
    aggregate: (input.aggregate || GENERIC_DEFAULTS.aggregate) as GroupAggregate,
    maxRatio: pick(input.maxRatio, GENERIC_DEFAULTS.maxRatio),
    roundTo: pick(input.roundTo, GENERIC_DEFAULTS.roundTo),
  };
  // Derived settings of the paper's main.py (docs/pruning-semantics.md §1): the measure's registry entry says which.
  const measure = knownMeasure(cfg.measure);
  Object.assign(cfg, measure?.forcesRunSettings);
  if (!Number.isInteger(cfg.numClasses) || cfg.numClasses < 2) throw new RunConfigError('num_classes', `must be ≥ 2, got ${cfg.numClasses}`);
  if (!(cfg.temperature > 0)) throw new RunConfigError('temperature', `must be > 0, got ${cfg.temperature}`);
  if (!(cfg.lrPrune > 0)) throw new RunConfigError('lr_prune', `must be > 0, got ${cfg.lrPrune}`);
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) throw new RunConfigError('momentum', `must be in [0, 1), got ${cfg.momentum}`);
  if (!(cfg.weightDecay >= 0)) throw new RunConfigError('weight_decay', `must be ≥ 0, got ${cfg.weightDecay}`);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1 || cfg.batchSize > 4096)
    throw new RunConfigError('batch_size', `must be an integer in 1..4096, got ${cfg.batchSize}`);
  cfg.schedule.forEach((p, i) => {
    if (!(p.lr > 0) || !Number.isInteger(p.epochs) || p.epochs < 0)
      throw new RunConfigError(`schedule[${i}]`, `needs lr > 0 and a whole number of epochs ≥ 0, got lr ${p.lr}, epochs ${p.epochs}`);
  });
  if (!(cfg.alpha > 0 && cfg.alpha <= 1)) throw new RunConfigError('alpha', `must be in (0, 1], got ${cfg.alpha}`);
  if (!Number.isInteger(cfg.trackBatches) || cfg.trackBatches < 1) throw new RunConfigError('track_batches', `must be a positive integer, got ${cfg.trackBatches}`);
  if (cfg.trackImportance && !isTrackable(cfg.measure))
    throw new RunConfigError(
      'track_importance',
      measure?.hessianGroups
        ? `cannot be used with ${cfg.measure}: the Hessian-gradient measures need a data loader (docs/pruning-semantics.md, quirk Q9)`
        : `cannot be used with ${cfg.measure || 'no measure'}; trackable measures: ${TRACKABLE_MEASURES.join(', ')}`,
    );
  // The per-weight measures are those that force use_l2 (their values need its reduction).
  const perWeight = TRACKABLE_MEASURES.filter((m) => knownMeasure(m)?.forcesRunSettings?.useL2);
  if (cfg.trackImportance && cfg.useL2 && !perWeight.includes(cfg.measure))
    throw new RunConfigError('use_l2', `with track_importance needs a per-weight measure (${perWeight.join(', ')}), not ${cfg.measure} (docs/pruning-semantics.md, quirk Q9)`);
  if (cfg.analysis) {
    const { everyBatches, samples, hessianEveryBatches } = cfg.analysis;
    if (!Number.isInteger(everyBatches) || everyBatches < 0) throw new RunConfigError('analysis.every_batches', `must be a whole number ≥ 0, got ${everyBatches}`);
    if (!Number.isInteger(hessianEveryBatches) || hessianEveryBatches < 0 || (hessianEveryBatches > 0 && !(everyBatches > 0 && hessianEveryBatches % everyBatches === 0)))
      throw new RunConfigError(
        'analysis.hessian_every_batches',
        `must be 0 or a multiple of every_batches (${everyBatches}): θᵀHḡ is computed at some of the analysis points, got ${hessianEveryBatches}`,
      );
    if (!Number.isInteger(samples) || samples < cfg.numClasses)
      throw new RunConfigError('analysis.samples', `must be a whole number ≥ the ${cfg.numClasses} classes (the Hessian-gradient product takes int(samples / classes) per class), got ${samples}`);
  }
  checkGenericSettings(cfg);
  if (cfg.useInit && !cfg.measure) throw new RunConfigError('use_init', 'needs a measure to bias');
  if (cfg.measure) {
    if (cfg.thresholds.length === 0) {
      if (!(cfg.pruneRatio > 0 && cfg.pruneRatio <= 0.95))
        throw new RunConfigError('prune_percent', `must be in (0, 95] when pruning with ${cfg.measure}, got ${cfg.pruneRatio * 100}`);
      if (!Number.isInteger(cfg.nRounds) || cfg.nRounds < 1)
        throw new RunConfigError('n_rounds', `must be ≥ 1 when pruning (or give thresholds), got ${cfg.nRounds}`);
    }
  } else if (cfg.pruneRatio > 0 || cfg.nRounds > 0 || cfg.thresholds.length > 0) {
    throw new RunConfigError('measure', 'is required when prune_percent, n_rounds or thresholds are set (e.g. mag_based)');
  }
  return cfg;
}

/** aggregate, max_ratio and round_to: valid, and set only where the generic policy prunes (imported models). */
function checkGenericSettings(cfg: RunConfig): void {
  const bad = genericOptionsProblem(cfg);
  if (bad) throw new RunConfigError(bad.field, bad.problem);
  const set = (
    [
      ['aggregate', cfg.aggregate !== GENERIC_DEFAULTS.aggregate],
      ['max_ratio', cfg.maxRatio !== GENERIC_DEFAULTS.maxRatio],
      ['round_to', cfg.roundTo !== GENERIC_DEFAULTS.roundTo],
    ] as const
  ).find(([, s]) => s);
  if (set && cfg.arch !== GRAPH_ARCH)
    throw new RunConfigError(
      set[0],
      `applies to the generic pruning policy, which prunes imported models (\`model:\`); ${cfg.arch} is pruned by the paper's policy (docs/pruning-semantics.md): leave ${set[0]} out`,
    );
}

/**
 * The run's unpruned network: a built-in architecture is built from the config; an imported model's
 * graph comes with its weights (`imported`, read from the run's starting checkpoint), and its class
 * count must be the run's.
 */
export function runNetwork(cfg: Pick<RunConfig, 'arch' | 'numClasses'>, imported?: Network): Network {
  if (cfg.arch !== GRAPH_ARCH) return buildNetwork(cfg.arch, cfg.numClasses);
  if (!imported || imported.arch !== GRAPH_ARCH) throw new RunConfigError('arch', 'is "graph" but the run has no imported model (its starting weights carry the graph)');
  if (imported.numClasses !== cfg.numClasses)
    throw new RunConfigError('num_classes', `is ${cfg.numClasses} but the imported model predicts ${imported.numClasses} classes`);
  return imported;
}
