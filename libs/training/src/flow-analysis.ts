// Opt-in gradient-flow analysis of a run (`analysis: {every_batches: k}`), for `flowprune analyze`:
//  * every k training batches, the first-order gradient-flow quantities (libs/importance
//    firstOrderFlow: ‖θ‖², ‖ḡ‖², θᵀḡ over the filter layers' conv weights) on a fixed sample, the
//    loss there, the rank agreement of magnitude with loss preservation, and the measured change of
//    ‖θ‖² since the previous point next to the gradient-flow prediction. θᵀHḡ (and magnitude vs
//    GraSP) needs a double backward that costs several training batches, so it is computed only at
//    pruning steps: the point taken right after each step carries all four quantities;
//  * at every pruning step, every built-in measure scored on the model about to be pruned, their
//    Spearman / Kendall rank correlations, the Jaccard overlap of the channels each would remove, and
//    the predicted (ΔL ≈ −Σθ_S·ḡ_S, Δ‖ḡ‖² ≈ −2Σθ_S·(Hḡ)_S) vs measured change right after the step.
// Records are emitted as run events (kind 'analysis'), which the trainer stores with the run.
import { jaccard, kendallTauB, spearman } from '@flowprune/common';
import {
  BUILTIN_MEASURES,
  firstOrderFlow,
  FLOW_QUANTITIES,
  gradientFlow,
  GRADIENT_FLOW_INFO,
  resolveParams,
  StatisticsCache,
  type FirstOrderFlowQuantity,
  type FlowValues,
  type GradientFlow,
  type ImportanceData,
  type MeasureInfo,
} from '@flowprune/importance';
import type { Model } from '@flowprune/models';
import { selectStep, type PruneStepOptions, type Selection } from '@flowprune/pruning';
import { evaluateModel } from './evaluate.js';
import type { Phase } from './events.js';
import type { RunConfig } from './run-config.js';

/** [Σθ², Σḡ², Σθ·ḡ, Σθ·Hḡ]: the order of every stored tuple. */
export const FLOW_FIELDS = FLOW_QUANTITIES;
/** Σθ·Hḡ is there only where Hḡ was computed (the points right after pruning). */
type FlowTuple = [number, number, number, number?];

/** One point of the quantities over training. */
export interface FlowPoint {
  type: 'flow';
  /** Training batches since the run (or its resumed session) started. */
  step: number;
  epoch: number;
  batch: number;
  phase: Phase;
  lr: number;
  /** Set on the point taken right after pruning round `afterRound`. */
  afterRound?: number;
  /** Mean loss (eval mode, temperature T) on the analysis sample. */
  loss: number;
  total: FlowTuple;
  /** Per filter layer, in the paper's order. */
  layers: FlowTuple[];
  /** Spearman of the filters' magnitude with loss_based's scores, and with grasp's where Hḡ was computed. */
  magnitudeSpearman: { loss_based: number; grasp?: number };
  /** Since the previous point (same network, no pruning between): ‖θ‖² now − then, and −2·η/(1−μ)·k·mean(θᵀḡ + λ‖θ‖²). */
  measuredDeltaThetaSq?: number;
  predictedDeltaThetaSq?: number;
  seconds: number;
}

/** What every built-in measure says at one pruning step, and what the step did. */
export interface PrunePoint {
  type: 'prune';
  round: number;
  step: number;
  epoch: number;
  convs: string[];
  /** The compared score vectors: every built-in measure on the analysis sample, then `run` (the run's own estimate). */
  measures: string[];
  spearman: number[][];
  kendall: number[][];
  /** Overlap of the channel sets each would remove at this step's ratio. */
  jaccard: number[][];
  /** Channels each would remove, per filter layer. */
  removedByLayer: number[][];
  /** The run's actual step: first-order predictions over the removed set S vs measured on the analysis sample. */
  predicted: { deltaLoss: number; deltaGradSq: number };
  measured: { deltaLoss: number; deltaGradSq: number };
  before: { loss: number; gradSq: number };
  after: { loss: number; gradSq: number };
  seconds: number;
}

export type AnalysisRecord = FlowPoint | PrunePoint;

/** The run loop's analysis port (RunPorts.analysis). */
export interface RunAnalysis {
  /** After every optimizer step. */
  afterStep(model: Model, at: { epoch: number; batch: number; phase: Phase; lr: number }): Promise<void>;
  /** Before pruning `model` with the run's scores; the returned function is called with the pruned model. */
  beforePrune(model: Model, at: { round: number; epoch: number; lr: number; runScores: number[][]; prune: PruneStepOptions }): Promise<(pruned: Model, selection: Selection) => Promise<void>>;
}

/** The measures compared at pruning steps: all built-ins that need no θ₀ (biased_loss_tracked is biased_loss_tracked_l2 once). */
function comparedMeasures(): MeasureInfo[] {
  return [...BUILTIN_MEASURES.values()].map((m) => m.info).filter((i) => !i.needsInitWeights && i.name !== 'biased_loss_tracked');
}

const r6 = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);
const tuple = (v: FlowValues<FirstOrderFlowQuantity> & { theta_dot_hg?: number }): FlowTuple =>
  FLOW_FIELDS.flatMap((f) => (v[f] === undefined ? [] : [r6(v[f])])) as FlowTuple;
/** A symmetric matrix of f over every pair (each pair computed once: Kendall is O(n²) in the channels). */
function matrix(vs: number[][], f: (a: number[], b: number[]) => number): number[][] {
  const m = vs.map(() => new Array<number>(vs.length).fill(NaN));
  vs.forEach((a, i) => {
    for (let j = i; j < vs.length; j++) m[i][j] = m[j][i] = r6(f(a, vs[j]));
  });
  return m;
}

export interface FlowAnalysisOptions {
  cfg: RunConfig;
  /** The fixed analysis sample (the same images at every point). */
  data: ImportanceData;
  emit(record: AnalysisRecord): void;
  /** An analysis that fails is reported here and skipped: it never stops the run it observes. */
  onError?(message: string): void;
}

export function makeFlowAnalysis({ cfg, data, emit, onError }: FlowAnalysisOptions): RunAnalysis {
  const every = cfg.analysis?.everyBatches ?? 0;
  const hessianEvery = cfg.analysis?.hessianEveryBatches ?? 0;
  const samples = cfg.analysis?.samples ?? 0;
  /** A measure's parameters from the run's settings, the sample budget being the analysis sample. */
  const paramsFor = (info: MeasureInfo) => {
    const fromRun: Record<string, number> = { T: cfg.temperature, grasp_T: cfg.graspTemperature, imp_samples: samples, batch_size: cfg.batchSize, exact_decisions: 0 };
    return resolveParams(info, Object.fromEntries(info.parameters.filter((p) => p.name in fromRun).map((p) => [p.name, fromRun[p.name]])));
  };
  let step = 0;
  let previous: { step: number; thetaSq: number; thetaDotGrad: number; lr: number; channels: string } | undefined;

  const lossOn = async (model: Model) => (await evaluateModel(model, data.batches(), cfg.temperature)).loss;
  const channelsOf = (model: Model) => model.net.filterLayers.map((l) => l.outChannels).join(',');

  /**
   * A point of the quantities over training; with Hḡ (θᵀHḡ, magnitude vs grasp) right after pruning
   * round `afterRound`, and every hessian_every_batches batches when the run asks.
   */
  async function flowPoint(
    model: Model,
    at: { epoch: number; batch: number; phase: Phase; lr: number },
    afterRound?: number,
  ): Promise<{ flow: GradientFlow<FirstOrderFlowQuantity>; loss: number }> {
    const started = performance.now();
    const input = { model, params: paramsFor(GRADIENT_FLOW_INFO), data, cache: new StatisticsCache() };
    const withHessian = afterRound !== undefined || (hessianEvery > 0 && step % hessianEvery === 0);
    const flow = withHessian ? await gradientFlow(input, { perFilter: true }) : await firstOrderFlow(input, { perFilter: true });
    const score = async (name: string) => (await BUILTIN_MEASURES.get(name)!.compute({ ...input, params: paramsFor(BUILTIN_MEASURES.get(name)!.info) })).scores.flat();
    const magnitude = flow.layers.flatMap((l) => l.filters!.theta_sq.map(Math.sqrt));
    const versus = async (name: string) => r6(spearman(magnitude, await score(name)));
    const loss = await lossOn(model);
    const point: FlowPoint = {
      type: 'flow',
      step,
      ...at,
      ...(afterRound !== undefined ? { afterRound } : {}),
      loss: r6(loss),
      total: tuple(flow.total),
      layers: flow.layers.map(tuple),
      magnitudeSpearman: { loss_based: await versus('loss_based'), ...(withHessian ? { grasp: await versus('grasp') } : {}) },
      seconds: 0,
    };
    const channels = channelsOf(model);
    if (previous && afterRound === undefined && previous.channels === channels && step > previous.step) {
      // Gradient flow of SGD with momentum μ and weight decay λ: dθ/dt = −η/(1−μ)·(ḡ + λθ), so
      // d‖θ‖²/dt = −2η/(1−μ)·(θᵀḡ + λ‖θ‖²); trapezoid over the k steps between the points.
      const eta = (previous.lr + at.lr) / 2 / (1 - cfg.momentum);
      const k = step - previous.step;
      const meanDot = (previous.thetaDotGrad + flow.total.theta_dot_grad) / 2;
      const meanSq = (previous.thetaSq + flow.total.theta_sq) / 2;
      point.measuredDeltaThetaSq = r6(flow.total.theta_sq - previous.thetaSq);
      point.predictedDeltaThetaSq = r6(-2 * eta * k * (meanDot + cfg.weightDecay * meanSq));
    }
    previous = { step, thetaSq: flow.total.theta_sq, thetaDotGrad: flow.total.theta_dot_grad, lr: at.lr, channels };
    point.seconds = r6((performance.now() - started) / 1000);
    emit(point);
    return { flow, loss };
  }

  const guarded = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    if (!onError) return f();
    try {
      return await f();
    } catch (e) {
      onError(`gradient-flow analysis ${what} failed and was skipped: ${(e as Error).message}`);
      return undefined;
    }
  };

  return {
    async afterStep(model, at) {
      step++;
      if (every > 0 && step % every === 0) await guarded(`at batch ${step}`, () => flowPoint(model, at));
    },

    async beforePrune(model, at) {
      const after = await guarded(`before pruning round ${at.round}`, () => pruneAnalysis(model, at));
      return async (pruned, selection) => void (after && (await guarded(`after pruning round ${at.round}`, () => after(pruned, selection))));
    },
  };

  async function pruneAnalysis(model: Model, at: Parameters<RunAnalysis['beforePrune']>[1]): Promise<(pruned: Model, selection: Selection) => Promise<void>> {
      const started = performance.now();
      const cache = new StatisticsCache();
      const flow = await gradientFlow({ model, params: paramsFor(GRADIENT_FLOW_INFO), data, cache }, { perFilter: true });
      const lossBefore = await lossOn(model);
      const infos = comparedMeasures();
      const scores: number[][][] = [];
      for (const info of infos) scores.push((await BUILTIN_MEASURES.get(info.name)!.compute({ model, params: paramsFor(info), data, cache })).scores);
      scores.push(at.runScores);
      const removed = scores.map((s) => selectStep(model.net, s, at.prune).selection.removed);
      const keys = removed.map((r) => new Set(r.flatMap((cs, l) => cs.map((c) => `${l}:${c}`))));
      const flat = scores.map((s) => s.flat());
      const beforeSeconds = (performance.now() - started) / 1000;
      return async (pruned, selection) => {
        const t0 = performance.now();
        let dotGrad = 0;
        let dotHg = 0;
        selection.removed.forEach((cs, l) => {
          for (const c of cs) {
            dotGrad += flow.layers[l].filters!.theta_dot_grad[c];
            dotHg += flow.layers[l].filters!.theta_dot_hg[c];
          }
        });
        const { flow: after, loss: lossAfter } = await flowPoint(pruned, { epoch: at.epoch, batch: -1, phase: 'pruning_and_training', lr: at.lr }, at.round);
        emit({
          type: 'prune',
          round: at.round,
          step,
          epoch: at.epoch,
          convs: model.net.filterLayers.map((l) => l.conv),
          measures: [...infos.map((i) => i.name), 'run'],
          spearman: matrix(flat, spearman),
          kendall: matrix(flat, kendallTauB),
          jaccard: keys.map((a) => keys.map((b) => r6(jaccard(a, b)))),
          removedByLayer: removed.map((r) => r.map((cs) => cs.length)),
          predicted: { deltaLoss: r6(-dotGrad), deltaGradSq: r6(-2 * dotHg) },
          measured: { deltaLoss: r6(lossAfter - lossBefore), deltaGradSq: r6(after.total.grad_sq - flow.total.grad_sq) },
          before: { loss: r6(lossBefore), gradSq: r6(flow.total.grad_sq) },
          after: { loss: r6(lossAfter), gradSq: r6(after.total.grad_sq) },
          seconds: r6(beforeSeconds + (performance.now() - t0) / 1000),
        });
      };
  }
}
