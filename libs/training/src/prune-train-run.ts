// The paper's prune+train pipeline (PRUNING-SPEC §9), with every outside dependency as a port so
// the trainer service can wire gRPC clients and a store to it.
import { buildNetwork, countFlops, countParameters, Model, stateBytes } from '@flowprune/models';
import { carryMomentum, defaultRatios, nextPCumulative, originalWidths, pruneStep, thresholdRatios } from '@flowprune/pruning';
import type { PixelBatch } from './batch.js';
import { evaluateModel } from './evaluate.js';
import type { Phase, RunEventBody, RunSummaryData } from './events.js';
import type { RunConfig } from './run-config.js';
import { Sgd } from './sgd.js';
import { trainEpoch } from './train-epoch.js';

export interface EstimateResult {
  scores: number[][];
  estimator: string;
}

export interface ExternalEvaluation {
  accuracy: number;
  flops: number;
  parameters: number;
  compressionRatio: number;
}

export interface RunPorts {
  backend: string;
  trainBatches(epoch: number): AsyncIterable<PixelBatch>;
  trainBatchCount: number;
  testBatches(): AsyncIterable<PixelBatch>;
  /** Importance of a stored checkpoint (this round's trained model) through the measure's estimator. */
  estimate(checkpoint: string, round: number, epoch: number): Promise<EstimateResult>;
  /** Stores a checkpoint; returns its name. */
  saveCheckpoint(model: Model, name: string): Promise<string>;
  /** Evaluates a stored checkpoint through the evaluator service. */
  evaluateCheckpoint(name: string): Promise<ExternalEvaluation>;
  emit(event: RunEventBody): void;
  isCancelled(): boolean;
  /** Optional starting weights (pretrained). */
  initialModel?: Model;
}

export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
  }
}

export async function runPruneTrain(cfg: RunConfig, ports: RunPorts): Promise<RunSummaryData> {
  const t0 = performance.now();
  const stageSeconds: Record<string, number> = {};
  const timed = async <T>(stage: string, detail: string, fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    const out = await fn();
    const secs = (performance.now() - s) / 1000;
    stageSeconds[stage] = (stageSeconds[stage] ?? 0) + secs;
    ports.emit({ kind: 'stage', stage, seconds: secs, detail });
    return out;
  };
  const checkCancel = () => {
    if (ports.isCancelled()) throw new RunCancelled();
  };

  let model = ports.initialModel ?? Model.init(buildNetwork(cfg.arch, cfg.numClasses), cfg.seed);
  const widths0 = originalWidths(model.net);
  const base = { params: countParameters(model.net), flops: countFlops(model.net), bytes: stateBytes(model.net) };
  const channelsBefore = model.net.filterLayers.map((l) => l.outChannels);
  const pruning = cfg.measure !== '';
  const ratios = !pruning ? [] : cfg.thresholds.length ? thresholdRatios(cfg.thresholds) : defaultRatios(cfg.pruneRatio, cfg.nRounds);
  const nRounds = ratios.length;
  const w = pruning ? cfg.warmupEpochs : 0;
  const finalEpochs = cfg.schedule.map((p, i) => (i === 0 ? Math.max(0, p.epochs - nRounds - w) : p.epochs));
  const totalEpochs = Math.max(0, w - 1) + nRounds + finalEpochs.reduce((a, b) => a + b, 0);
  ports.emit({
    kind: 'started',
    arch: cfg.arch,
    backend: ports.backend,
    totalEpochs,
    trainBatches: ports.trainBatchCount,
    parameters: base.params,
    flops: base.flops,
  });

  let opt = new Sgd({ lr: cfg.lrPrune, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  let epoch = 0;
  let best = -1;
  let bestName = '';
  let accBeforePruning = NaN;
  let accAfterPruning = NaN;

  const runEpoch = async (phase: Phase, lr: number) => {
    checkCancel();
    opt.options.lr = lr;
    const e = epoch;
    const tr = await timed('train', `${phase} epoch ${e}`, () =>
      trainEpoch(
        model,
        opt,
        ports.trainBatches(e),
        cfg.temperature,
        (b) => ports.emit({ kind: 'progress', phase, epoch: e, batch: b.batch + 1, batches: ports.trainBatchCount, loss: b.loss }),
        () => ports.isCancelled(),
      ),
    );
    checkCancel();
    const te = await timed('test', `epoch ${e}`, () => evaluateModel(model, ports.testBatches(), cfg.temperature));
    ports.emit({
      kind: 'epoch',
      phase,
      epoch: e,
      lr,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy,
      testLoss: te.loss,
      testAccuracy: te.accuracy,
      seconds: tr.seconds + te.seconds,
    });
    epoch++;
    return te.accuracy;
  };

  // Warmup: w − 1 epochs at lr_prune (quirk Q10), keeping the best.
  for (let i = 0; i < w - 1; i++) await runEpoch('warmup', cfg.lrPrune);

  let pCumulative = 100;
  for (let k = 1; k <= nRounds; k++) {
    await runEpoch('pruning_and_training', cfg.lrPrune);
    const ratio = ratios[k - 1];
    pCumulative = nextPCumulative(pCumulative, ratio);
    const trained = await timed('checkpoint', `round ${k} trained`, () => ports.saveCheckpoint(model, `round${k}-trained`));
    if (k === 1) accBeforePruning = (await timed('evaluate', 'before pruning', () => ports.evaluateCheckpoint(trained))).accuracy;
    checkCancel();
    const est = await timed('estimate', `${cfg.measure} round ${k}`, () => ports.estimate(trained, k, epoch));
    const res = await timed('prune', `round ${k} ratio ${ratio.toFixed(4)}`, async () => pruneStep(model, est.scores, { ratio, pCumulative, originalWidths: widths0 }));
    const next = new Sgd({ lr: cfg.lrPrune, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    if (cfg.preserveMomentum) for (const [k, v] of carryMomentum(opt.buffers, model, res.model, res.plan)) next.buffers.set(k, v);
    model.dispose();
    opt.dispose();
    model = res.model;
    opt = next;
    const name = await timed('checkpoint', `round ${k} pruned`, () => ports.saveCheckpoint(model, `round${k}-pruned`));
    const ev = await timed('evaluate', `round ${k} pruned`, () => ports.evaluateCheckpoint(name));
    accAfterPruning = ev.accuracy;
    ports.emit({
      kind: 'round',
      round: k,
      prunedFraction: res.prunedFraction,
      channels: res.plan.kept.map((k) => k.length),
      accuracyBeforeFinetune: ev.accuracy,
      parameters: ev.parameters,
      flops: ev.flops,
      measure: cfg.measure,
      estimator: est.estimator,
    });
  }

  // Final training: the schedule's phases, the first shortened by the rounds and warmup.
  for (let p = 0; p < cfg.schedule.length; p++) {
    for (let i = 0; i < finalEpochs[p]; i++) {
      const acc = await runEpoch('final_training', cfg.schedule[p].lr);
      if (acc > best) {
        best = acc;
        bestName = await timed('checkpoint', `best (epoch ${epoch - 1})`, () => ports.saveCheckpoint(model, 'best'));
      }
    }
  }
  if (!bestName) bestName = await timed('checkpoint', 'final', () => ports.saveCheckpoint(model, 'best'));
  const finalEval = await timed('evaluate', 'best checkpoint', () => ports.evaluateCheckpoint(bestName));
  const summary: RunSummaryData = {
    backend: ports.backend,
    parametersBefore: base.params,
    parametersAfter: countParameters(model.net),
    flopsBefore: base.flops,
    flopsAfter: countFlops(model.net),
    accuracyBeforePruning: accBeforePruning,
    accuracyAfterPruning: accAfterPruning,
    accuracyAfterFinetune: finalEval.accuracy,
    bestTestAccuracy: best,
    compressionRatio: base.bytes / stateBytes(model.net),
    channelsBefore,
    channelsAfter: effectiveChannels(model),
    stageSeconds,
    wallSeconds: (performance.now() - t0) / 1000,
    finalCheckpoint: bestName,
  };
  model.dispose();
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
