// The paper's prune+train pipeline (docs/pruning-semantics.md §9) as a resumable walk over planned epochs. Every
// outside dependency is a port, so the trainer service wires gRPC clients and a store to it.
import { compressionRatio, countFlops, countParameters, Model, type Network } from '@flowprune/models';
import { applyPlanToStateDict, carryMomentum, nextPCumulative, originalWidths, policyFor, pruneStep } from '@flowprune/pruning';
import {
  ATTR_ARCH,
  ATTR_COMPUTE_BACKEND,
  ATTR_DATA_WAIT,
  ATTR_EPOCH,
  ATTR_IMAGES,
  ATTR_MEASURE,
  ATTR_PHASE,
  ATTR_ROUND,
  ATTR_STAGE,
  ATTR_STAGE_DETAIL,
  inSpan,
  SPAN_EPOCH,
  SPAN_ROUND,
  SPAN_RUN,
  trainingMetrics,
  type Span,
} from '@flowprune/telemetry';
import type { tf } from '@flowprune/tensor';
import type { PixelBatch } from './batch.js';
import { planEpochs, type PlannedEpoch } from './epoch-plan.js';
import { evaluateModel } from './evaluate.js';
import type { LatencyMeasurementData, RunEventBody, RunSummaryData } from './events.js';
import type { RunAnalysis } from './flow-analysis.js';
import { runNetwork, type RunConfig } from './run-config.js';
import { Sgd } from './sgd.js';
import type { RunProgress, RunSnapshot } from './snapshot.js';
import { trainEpoch, type StepHook } from './train-epoch.js';

export interface EstimateResult {
  scores: number[][];
  estimator: string;
}

export interface ExternalEvaluation {
  accuracy: number;
  flops: number;
  parameters: number;
  compressionRatio: number;
  /** Present when asked for (evaluateCheckpoint's `latency`) and the evaluator measured it. */
  latency?: LatencyMeasurementData[];
}

/** In-trainer importance tracking over a round's last minibatches (docs/pruning-semantics.md §8). */
export interface ImportanceTracker {
  reset(model: Model): void;
  /** Called after each optimizer step of a round's last `trackBatches` minibatches. */
  update(model: Model, grads: ReadonlyMap<string, tf.Tensor>, initModel?: Model): void;
  /** The tracked vectors, used by the pruning step instead of an estimate. */
  scores(): number[][];
}

export interface RunPorts {
  backend: string;
  trainBatches(epoch: number): AsyncIterable<PixelBatch>;
  trainBatchCount: number;
  testBatches(): AsyncIterable<PixelBatch>;
  /** Importance of a stored checkpoint through the measure's estimator (θ₀ by checkpoint when use_init). */
  estimate(checkpoint: string, round: number, epoch: number, initCheckpoint?: string): Promise<EstimateResult>;
  /** Stores a checkpoint; returns its name. */
  saveCheckpoint(model: Model, name: string): Promise<string>;
  /** Evaluates a stored checkpoint through the evaluator service (and measures its latency if asked). */
  evaluateCheckpoint(name: string, opts?: { latency?: boolean }): Promise<ExternalEvaluation>;
  /** Persists everything needed to resume after the epoch that just ended (the commit point). */
  saveSnapshot(snapshot: RunSnapshot): Promise<void>;
  emit(event: RunEventBody): void;
  isCancelled(): boolean;
  /** Starting weights (pretrained); else a seeded fresh initialisation. */
  initialModel?: Model;
  /** An imported model's unpruned network (cfg.arch GRAPH_ARCH), from its starting checkpoint: resumed runs need it too. */
  importedNetwork?: Network;
  /** Continue a stopped run from its last snapshot. */
  resume?: RunSnapshot;
  /** Tracks importance in the trainer instead of asking an estimator (track_importance). */
  tracker?: ImportanceTracker;
  /** Opt-in gradient-flow analysis (cfg.analysis): sees every step and every pruning step. */
  analysis?: RunAnalysis;
}

export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
  }
}

/** The run as one span (a no-op without an OpenTelemetry SDK); epochs, rounds and stages are its children. */
export function runPruneTrain(cfg: RunConfig, ports: RunPorts): Promise<RunSummaryData> {
  const attrs = { [ATTR_ARCH]: cfg.arch, [ATTR_MEASURE]: cfg.measure, [ATTR_COMPUTE_BACKEND]: ports.backend };
  return inSpan(SPAN_RUN, attrs, () => runLoop(cfg, ports));
}

async function runLoop(cfg: RunConfig, ports: RunPorts): Promise<RunSummaryData> {
  const t0 = performance.now();
  const plan = planEpochs(cfg);
  const resume = ports.resume;
  const progress: RunProgress = resume
    ? { ...resume.progress, stageSeconds: { ...resume.progress.stageSeconds } }
    : {
        nextEpoch: 0,
        pCumulative: 100,
        bestAccuracy: -1,
        bestCheckpoint: '',
        accuracyBeforePruning: NaN,
        accuracyAfterPruning: NaN,
        stageSeconds: {},
        elapsedSeconds: 0,
      };
  // Every stage is timed into the summary, announced as an event, and traced as a span.
  const timed = <T>(stage: string, detail: string, fn: (span: Span) => Promise<T>): Promise<T> =>
    inSpan(stage, { [ATTR_STAGE]: stage, [ATTR_STAGE_DETAIL]: detail }, async (span) => {
      const s = performance.now();
      const out = await fn(span);
      const secs = (performance.now() - s) / 1000;
      progress.stageSeconds[stage] = (progress.stageSeconds[stage] ?? 0) + secs;
      ports.emit({ kind: 'stage', stage, seconds: secs, detail });
      return out;
    });
  const checkCancel = () => {
    if (ports.isCancelled()) throw new RunCancelled();
  };

  // The unpruned reference for sizes and the 95 % cap, whatever state we resume from.
  const baseNet = runNetwork(cfg, ports.importedNetwork);
  // Imported models are pruned by the generic policy (policyFor), with the run's aggregate, max_ratio and round_to.
  const policy = policyFor(baseNet);
  const widths0 = originalWidths(baseNet);
  const base = { params: countParameters(baseNet), flops: countFlops(baseNet), channels: widths0 };
  let model = resume?.model ?? ports.initialModel ?? Model.init(baseNet, cfg.seed);
  // θ₀: the network as loaded at start, pruned alongside the model (docs/pruning-semantics.md §6.4).
  let initModel = cfg.useInit ? (resume?.initModel ?? Model.fromStateDict(model.net, model.stateDict(), 'initial weights')) : undefined;
  let opt = new Sgd({ lr: cfg.lrPrune, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  for (const [k, v] of resume?.buffers ?? []) opt.buffers.set(k, v);
  const totalEpochs = plan.length;

  ports.emit({
    kind: 'started',
    arch: cfg.arch,
    backend: ports.backend,
    totalEpochs,
    trainBatches: ports.trainBatchCount,
    parameters: base.params,
    flops: base.flops,
  });
  if (resume) ports.emit({ kind: 'stage', stage: 'resume', seconds: 0, detail: `resumed before epoch ${progress.nextEpoch} of ${totalEpochs}` });

  const trackHook = (step: PlannedEpoch): StepHook | undefined => {
    const tracker = ports.tracker;
    if (!tracker || step.round === undefined) return undefined;
    const first = ports.trainBatchCount - cfg.trackBatches;
    return ({ batch, grads }) => {
      if (batch >= first) tracker.update(model, grads, initModel);
    };
  };

  // The tracker's and the analysis' step hooks run in turn (the analysis keeps its own batch count).
  const stepHooks = (step: PlannedEpoch, index: number): StepHook | undefined => {
    const analysis = ports.analysis;
    const analyse: StepHook | undefined = analysis && (({ batch }) => analysis.afterStep(model, { epoch: index, batch, phase: step.phase, lr: step.lr }));
    const active = [trackHook(step), analyse].filter((h): h is StepHook => h !== undefined);
    if (active.length <= 1) return active[0];
    return async (info) => {
      for (const h of active) await h(info);
    };
  };

  const runEpoch = async (index: number, step: PlannedEpoch) => {
    checkCancel();
    opt.options.lr = step.lr;
    if (step.round !== undefined) ports.tracker?.reset(model);
    const tr = await timed('train', `${step.phase} epoch ${index}`, async (span) => {
      const r = await trainEpoch(
        model,
        opt,
        ports.trainBatches(index),
        cfg.temperature,
        (b) => ports.emit({ kind: 'progress', phase: step.phase, epoch: index, batch: b.batch + 1, batches: ports.trainBatchCount, loss: b.loss }),
        () => ports.isCancelled(),
        stepHooks(step, index),
      );
      span.setAttributes({ [ATTR_PHASE]: step.phase, [ATTR_EPOCH]: index, [ATTR_IMAGES]: r.samples, [ATTR_DATA_WAIT]: r.dataSeconds });
      if (r.seconds > 0) trainingMetrics().throughput.record(r.samples / r.seconds, { [ATTR_PHASE]: step.phase, [ATTR_ARCH]: cfg.arch });
      return r;
    });
    checkCancel();
    const te = await timed('test', `epoch ${index}`, async (span) => {
      const r = await evaluateModel(model, ports.testBatches(), cfg.temperature);
      span.setAttributes({ [ATTR_EPOCH]: index, [ATTR_IMAGES]: r.samples, [ATTR_DATA_WAIT]: r.dataSeconds });
      return r;
    });
    ports.emit({
      kind: 'epoch',
      phase: step.phase,
      epoch: index,
      lr: step.lr,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy,
      testLoss: te.loss,
      testAccuracy: te.accuracy,
      seconds: tr.seconds + te.seconds,
    });
    return te.accuracy;
  };

  const pruneRoundSteps = async (index: number, step: PlannedEpoch) => {
    const k = step.round!;
    progress.pCumulative = nextPCumulative(progress.pCumulative, step.ratio!);
    const trained = await timed('checkpoint', `round ${k} trained`, () => ports.saveCheckpoint(model, `round${k}-trained`));
    if (k === 1) {
      const before = await timed('evaluate', 'before pruning', () => ports.evaluateCheckpoint(trained, { latency: true }));
      progress.accuracyBeforePruning = before.accuracy;
      if (before.latency) progress.latencyBefore = before.latency;
    }
    checkCancel();
    let est: EstimateResult;
    if (ports.tracker) {
      est = { scores: ports.tracker.scores(), estimator: 'tracked in trainer' };
    } else {
      const init = initModel;
      const initName = init ? await timed('checkpoint', `round ${k} θ₀`, () => ports.saveCheckpoint(init, `round${k}-init`)) : undefined;
      est = await timed('estimate', `${cfg.measure} round ${k}`, async (span) => {
        span.setAttributes({ [ATTR_MEASURE]: cfg.measure, [ATTR_ROUND]: k });
        const s = performance.now();
        const r = await ports.estimate(trained, k, index + 1, initName);
        trainingMetrics().estimateDuration.record((performance.now() - s) / 1000, { [ATTR_MEASURE]: cfg.measure });
        return r;
      });
    }
    const pruneOptions = {
      ratio: step.ratio!,
      pCumulative: progress.pCumulative,
      originalWidths: widths0,
      policy,
      generic: { aggregate: cfg.aggregate, maxRatio: cfg.maxRatio, roundTo: cfg.roundTo },
    };
    const analysed = ports.analysis
      ? await timed('analysis', `round ${k} measures`, () => ports.analysis!.beforePrune(model, { round: k, epoch: index, lr: step.lr, runScores: est.scores, prune: pruneOptions }))
      : undefined;
    const res = await timed('prune', `round ${k} ratio ${step.ratio!.toFixed(4)}`, async () => pruneStep(model, est.scores, pruneOptions));
    const next = new Sgd({ lr: cfg.lrPrune, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    if (cfg.preserveMomentum) for (const [name, buf] of carryMomentum(opt.buffers, model, res.model, res.plan)) next.buffers.set(name, buf);
    if (initModel) {
      const prunedInit = Model.fromStateDict(res.model.net, applyPlanToStateDict(initModel.stateDict(), res.plan.tensors), 'θ₀');
      initModel.dispose();
      initModel = prunedInit;
    }
    model.dispose();
    opt.dispose();
    model = res.model;
    opt = next;
    if (analysed) await timed('analysis', `round ${k} after pruning`, () => analysed(model, res.selection));
    const name = await timed('checkpoint', `round ${k} pruned`, () => ports.saveCheckpoint(model, `round${k}-pruned`));
    const ev = await timed('evaluate', `round ${k} pruned`, () => ports.evaluateCheckpoint(name));
    progress.accuracyAfterPruning = ev.accuracy;
    ports.emit({
      kind: 'round',
      round: k,
      prunedFraction: res.prunedFraction,
      channels: res.plan.kept.map((c) => c.length),
      accuracyBeforeFinetune: ev.accuracy,
      parameters: ev.parameters,
      flops: ev.flops,
      measure: cfg.measure,
      estimator: est.estimator,
    });
  };
  const pruneRound = (index: number, step: PlannedEpoch) =>
    inSpan(SPAN_ROUND, { [ATTR_ROUND]: step.round!, [ATTR_EPOCH]: index }, () => pruneRoundSteps(index, step));

  for (let index = progress.nextEpoch; index < plan.length; index++) {
    const step = plan[index];
    await inSpan(SPAN_EPOCH, { [ATTR_EPOCH]: index, [ATTR_PHASE]: step.phase }, async () => {
      const acc = await runEpoch(index, step);
      if (step.round !== undefined) await pruneRound(index, step);
      // The reported result is the best test accuracy of final training, checkpointed (quirk Q11).
      if (step.phase === 'final_training' && acc > progress.bestAccuracy) {
        progress.bestAccuracy = acc;
        progress.bestCheckpoint = await timed('checkpoint', `best (epoch ${index})`, () => ports.saveCheckpoint(model, 'best'));
      }
      progress.nextEpoch = index + 1;
      progress.elapsedSeconds = (resume?.progress.elapsedSeconds ?? 0) + (performance.now() - t0) / 1000;
      await timed('checkpoint', `resume state after epoch ${index}`, () => ports.saveSnapshot({ progress, model, buffers: opt.buffers, initModel }));
    });
  }

  await timed('checkpoint', 'final', () => ports.saveCheckpoint(model, 'final'));
  if (!progress.bestCheckpoint) progress.bestCheckpoint = 'final';
  const finalEval = await timed('evaluate', `${progress.bestCheckpoint} checkpoint`, () => ports.evaluateCheckpoint(progress.bestCheckpoint, { latency: true }));
  const summary: RunSummaryData = {
    backend: ports.backend,
    parametersBefore: base.params,
    parametersAfter: countParameters(model.net),
    flopsBefore: base.flops,
    flopsAfter: countFlops(model.net),
    accuracyBeforePruning: progress.accuracyBeforePruning,
    accuracyAfterPruning: progress.accuracyAfterPruning,
    accuracyAfterFinetune: finalEval.accuracy,
    bestTestAccuracy: progress.bestAccuracy >= 0 ? progress.bestAccuracy : finalEval.accuracy,
    compressionRatio: compressionRatio(baseNet, model.net),
    channelsBefore: base.channels,
    channelsAfter: effectiveChannels(model),
    stageSeconds: progress.stageSeconds,
    wallSeconds: (resume?.progress.elapsedSeconds ?? 0) + (performance.now() - t0) / 1000,
    finalCheckpoint: progress.bestCheckpoint,
    ...(progress.latencyBefore && finalEval.latency ? { latency: { before: progress.latencyBefore, after: finalEval.latency } } : {}),
  };
  model.dispose();
  initModel?.dispose();
  opt.dispose();
  return summary;
}

/** Channels per filter layer, masked ResNet channels excluded. */
export function effectiveChannels(model: Model): number[] {
  return model.net.filterLayers.map((l) => {
    const mask = model.masks.get(l.bn);
    return mask ? mask.reduce((a, m) => a + (m !== 0 ? 1 : 0), 0) : l.outChannels;
  });
}
