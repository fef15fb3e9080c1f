// Owns the trainer's runs: starts them in the background, persists their records and events,
// and fans live events out to WatchRun streams.
import { call, failedPrecondition, invalidArgument, notFound, streamImageBatches, testSplitRequest } from '@flowprune/grpc';
import { Model } from '@flowprune/models';
import { Split, type DataLoaderServiceClient, type EvaluatorServiceClient, type RunSpec } from '@flowprune/proto';
import type { RunStore } from '@flowprune/store';
import { resolveRunConfig, RunCancelled, runPruneTrain, RunConfigError, type RunConfig, type RunEventBody } from '@flowprune/training';
import { AsyncQueue } from './async-queue.js';
import type { EstimatorRegistry } from './estimator-registry.js';
import { isTerminal } from './run-events.js';

export interface TrainerDeps {
  store: RunStore;
  dataLoader: DataLoaderServiceClient;
  evaluator: EvaluatorServiceClient;
  estimators: EstimatorRegistry;
  backend: string;
}

interface TimedEvent {
  unixMs: number;
  body: RunEventBody;
}

interface ActiveRun {
  id: string;
  history: TimedEvent[];
  watchers: Set<AsyncQueue<TimedEvent>>;
  cancelled: boolean;
  done: Promise<void>;
}

export class RunManager {
  private readonly runs = new Map<string, ActiveRun>();

  constructor(private readonly deps: TrainerDeps) {}

  /** Validates the spec, records the run and starts it; returns its id at once. */
  async start(spec: RunSpec): Promise<string> {
    if (!spec.dataset?.name) throw invalidArgument('spec.dataset.name', 'is required (a dataset the data-loader serves)');
    const described = await call(this.deps.dataLoader, this.deps.dataLoader.describe, { dataset: spec.dataset }, 60_000);
    let cfg: RunConfig;
    try {
      cfg = resolveRunConfig({
        name: spec.name,
        arch: spec.arch,
        numClasses: spec.numClasses || described.numClasses,
        dataset: spec.dataset.name,
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
      });
    } catch (e) {
      if (e instanceof RunConfigError) throw invalidArgument(`spec.${e.field}`, e.message.slice(e.field.length + 2));
      throw e;
    }
    if (cfg.numClasses !== described.numClasses)
      throw invalidArgument('spec.num_classes', `is ${cfg.numClasses} but dataset ${cfg.dataset} has ${described.numClasses} classes`);
    if (cfg.measure) await this.deps.estimators.resolve(cfg.measure);
    const initial = spec.pretrained ? await this.loadPretrained(spec) : undefined;

    const record = await this.deps.store.createRun({
      spec: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
      model: cfg.arch,
      dataset: cfg.dataset,
      measure: cfg.measure || undefined,
      pruneRatio: cfg.pruneRatio,
      seed: cfg.seed,
      backend: this.deps.backend,
      status: 'running',
    });
    const run: ActiveRun = { id: record.id, history: [], watchers: new Set(), cancelled: false, done: Promise.resolve() };
    this.runs.set(run.id, run);
    const trainSize = cfg.trainSamples ? Math.min(cfg.trainSamples, described.trainSize) : described.trainSize;
    run.done = this.execute(run, cfg, Math.ceil(trainSize / cfg.batchSize), initial);
    return run.id;
  }

  private async loadPretrained(spec: RunSpec): Promise<Model> {
    const ref = spec.pretrained!;
    const bytes = ref.safetensors?.length
      ? ref.safetensors
      : ref.checkpoint
        ? (await this.deps.store.getCheckpoint(ref.checkpoint.runId, ref.checkpoint.name))?.bytes
        : undefined;
    if (!bytes) throw notFound('spec.pretrained: checkpoint not found in the run store');
    return Model.fromSafeTensors(bytes, { arch: spec.arch }, 'spec.pretrained');
  }

  private async execute(run: ActiveRun, cfg: RunConfig, trainBatchCount: number, initialModel?: Model): Promise<void> {
    const { store, dataLoader, evaluator } = this.deps;
    const emit = (body: RunEventBody) => this.publish(run, body);
    try {
      const summary = await runPruneTrain(cfg, {
        backend: this.deps.backend,
        initialModel,
        trainBatchCount,
        trainBatches: (epoch) =>
          streamImageBatches(dataLoader, {
            dataset: { name: cfg.dataset },
            split: Split.SPLIT_TRAIN,
            batchSize: cfg.batchSize,
            seed: cfg.seed,
            epoch,
            shuffle: true,
            augment: cfg.augment,
            shardIndex: 0,
            shardCount: 1,
            maxSamples: cfg.trainSamples,
          }),
        testBatches: () => streamImageBatches(dataLoader, testSplitRequest(cfg.dataset, cfg.evalBatchSize, cfg.testSamples)),
        saveCheckpoint: async (model, name) => {
          await store.putCheckpoint(run.id, name, model.toSafeTensors(), { arch: model.net.arch, config: model.net.config as unknown as Record<string, unknown> });
          return name;
        },
        evaluateCheckpoint: async (name) => {
          const r = await call(evaluator, evaluator.evaluate, {
            model: { checkpoint: { runId: run.id, name } },
            dataset: { name: cfg.dataset },
            split: Split.SPLIT_TEST,
            batchSize: cfg.evalBatchSize,
            temperature: cfg.temperature,
            maxSamples: cfg.testSamples,
          });
          return { accuracy: r.accuracy, flops: r.flops, parameters: r.parameters, compressionRatio: r.compressionRatio };
        },
        estimate: async (name, _round, epoch) => {
          const est = await this.deps.estimators.resolve(cfg.measure);
          const r = await call(est.client, est.client.estimate, {
            model: { checkpoint: { runId: run.id, name } },
            measure: cfg.measure,
            params: cfg.measureParams,
            dataset: { name: cfg.dataset },
            batches: [],
            seed: cfg.seed,
            epoch,
          });
          return { scores: r.layers.map((l) => l.values), estimator: `${est.estimator}@${est.address}` };
        },
        emit,
        isCancelled: () => run.cancelled,
      });
      await store.updateRun(run.id, { status: 'completed', summary: JSON.parse(JSON.stringify(summary)) as Record<string, unknown> });
      emit({ kind: 'finished', summary });
    } catch (e) {
      const cancelled = e instanceof RunCancelled;
      const message = cancelled ? 'cancelled' : ((e as { details?: string }).details ?? (e as Error).message ?? String(e));
      await store.updateRun(run.id, { status: cancelled ? 'cancelled' : 'failed', error: { message } }).catch(() => undefined);
      emit({ kind: 'failed', message });
    }
  }

  private publish(run: ActiveRun, body: RunEventBody): void {
    const ev = { unixMs: Date.now(), body };
    if (body.kind !== 'progress') {
      run.history.push(ev);
      void this.persist(run.id, body);
    }
    for (const w of run.watchers) {
      w.push(ev);
      if (isTerminal(body)) w.close();
    }
  }

  private async persist(id: string, body: RunEventBody): Promise<void> {
    const { store } = this.deps;
    await store.appendEvent(id, { type: body.kind, data: JSON.parse(JSON.stringify(body)) as Record<string, unknown> });
    if (body.kind === 'epoch')
      await store.appendEpochStat(id, {
        phase: body.phase,
        epoch: body.epoch,
        lr: body.lr,
        trainLoss: body.trainLoss,
        trainAcc: body.trainAccuracy,
        testLoss: body.testLoss,
        testAcc: body.testAccuracy,
        seconds: body.seconds,
      });
    if (body.kind === 'round')
      await store.appendRound(id, {
        round: body.round,
        prunedFraction: body.prunedFraction,
        remainingChannels: body.channels.map((remaining, layer) => ({ layer: String(layer), remaining })),
        accuracyBeforeFineTune: body.accuracyBeforeFinetune,
      });
  }

  /** Past events (replayed), then live ones until the run ends. */
  async *watch(id: string): AsyncGenerator<TimedEvent> {
    const run = this.runs.get(id);
    if (!run) {
      const events = await this.deps.store.readEvents(id).catch(() => null);
      if (!events) throw notFound(`run ${id} does not exist`);
      for (const e of events) yield { unixMs: Date.parse(e.at), body: e.data as unknown as RunEventBody };
      return;
    }
    const queue = new AsyncQueue<TimedEvent>();
    const past = [...run.history];
    const ended = past.some((e) => isTerminal(e.body));
    if (!ended) run.watchers.add(queue);
    try {
      for (const e of past) yield e;
      if (ended) return;
      for await (const e of queue) yield e;
    } finally {
      run.watchers.delete(queue);
    }
  }

  cancel(id: string): string {
    const run = this.runs.get(id);
    if (!run) throw notFound(`run ${id} is not active on this trainer`);
    if (run.history.some((e) => isTerminal(e.body))) throw failedPrecondition(`run ${id} has already ended`);
    run.cancelled = true;
    return 'cancelling';
  }

  /** Waits for every active run to stop (graceful shutdown). */
  async drain(): Promise<void> {
    for (const r of this.runs.values()) r.cancelled = true;
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }
}
