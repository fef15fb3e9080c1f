// Owns the trainer's runs: starts and resumes them in the background, persists their records and
// events, and fans live events out to WatchRun streams.
import { DependencyUnavailableError, failedPrecondition, idempotentCall, invalidArgument, notFound, rpcDefaults } from '@flowprune/grpc';
import { buildNetwork, Model } from '@flowprune/models';
import type { RunSpec } from '@flowprune/proto';
import type { EpochStat, RoundRecord } from '@flowprune/store';
import { annotateActiveSpan, ATTR_RUN_ID, runInContext, withRunId, type Context } from '@flowprune/telemetry';
import { makeTracker, planEpochs, resolveRunConfig, RunCancelled, runPruneTrain, type RunConfig, type RunEventBody, type RunSnapshot } from '@flowprune/training';
import { AsyncQueue } from './async-queue.js';
import { isTerminal } from './run-events.js';
import { makeRunPorts, type PortDeps } from './run-ports.js';
import { loadSnapshot } from './run-snapshots.js';
import { runConfigFromSpec } from './run-spec.js';

export type TrainerDeps = PortDeps;

interface TimedEvent {
  unixMs: number;
  body: RunEventBody;
}

interface ActiveRun {
  id: string;
  history: TimedEvent[];
  watchers: Set<AsyncQueue<TimedEvent>>;
  cancelled: boolean;
  /** Stopped by the trainer's shutdown (SIGTERM), not by CancelRun: left resumable. */
  interrupted: boolean;
  /** Stats and rounds of epochs not yet committed by a snapshot (see commitRecords). */
  pendingStats: EpochStat[];
  pendingRounds: RoundRecord[];
  done: Promise<void>;
  /** The StartRun/ResumeRun call's trace context, with the run id as baggage: the run continues that trace. */
  trace: Context;
}

/** The run has published its last event (finished or failed) in this trainer. */
const hasEnded = (run: ActiveRun): boolean => run.history.some((e) => isTerminal(e.body));

export class RunManager {
  private readonly runs = new Map<string, ActiveRun>();

  constructor(private readonly deps: TrainerDeps) {}

  /** Validates the spec, records the run and starts it; returns its id at once. */
  async start(spec: RunSpec): Promise<string> {
    if (!spec.dataset?.name) throw invalidArgument('spec.dataset.name', 'is required (a dataset the data-loader serves)');
    const described = await idempotentCall(this.deps.dataLoader, this.deps.dataLoader.describe, { dataset: spec.dataset }, { name: 'data-loader' });
    const cfg = runConfigFromSpec(spec, described.numClasses);
    if (cfg.numClasses !== described.numClasses)
      throw invalidArgument('spec.num_classes', `is ${cfg.numClasses} but dataset ${cfg.dataset} has ${described.numClasses} classes`);
    if (cfg.measure && !cfg.trackImportance) await this.deps.estimators.resolve(cfg.measure);
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
    const run = this.track(record.id, []);
    run.done = this.execute(run, cfg, this.trainBatches(cfg, described.trainSize), { initialModel: initial });
    return run.id;
  }

  /**
   * Continues a stopped run from its last epoch snapshot. With the same backend the result is
   * bit-identical to an uninterrupted run: data order and augmentation are pure functions of
   * (seed, epoch), and the snapshot holds weights, BN statistics, masks and momentum.
   */
  async resume(id: string): Promise<{ nextEpoch: number; totalEpochs: number }> {
    const active = this.runs.get(id);
    if (active && !hasEnded(active)) throw failedPrecondition(`run ${id} is running on this trainer; watch it instead`);
    const record = await this.deps.store.getRun(id);
    if (!record) throw notFound(`run ${id} does not exist`);
    if (record.status === 'completed') throw failedPrecondition(`run ${id} has already completed; see \`flowprune runs show ${id}\``);
    const cfg = resolveRunConfig(record.spec as unknown as Parameters<typeof resolveRunConfig>[0]);
    const described = await idempotentCall(this.deps.dataLoader, this.deps.dataLoader.describe, { dataset: { name: cfg.dataset } }, { name: 'data-loader' });
    const snapshot = record.resume ? await loadSnapshot(this.deps.store, id, record.resume) : undefined;
    // Watchers see the whole run; the previous session's end is not this run's end.
    const past = (await this.deps.store.readEvents(id)).filter((e) => e.type !== 'finished' && e.type !== 'failed');
    const run = this.track(
      id,
      past.map((e) => ({ unixMs: Date.parse(e.at), body: e.data as unknown as RunEventBody })),
    );
    await this.deps.store.updateRun(id, { status: 'running', error: undefined });
    run.done = this.execute(run, cfg, this.trainBatches(cfg, described.trainSize), { resume: snapshot });
    return { nextEpoch: snapshot?.progress.nextEpoch ?? 0, totalEpochs: planEpochs(cfg).length };
  }

  private track(id: string, history: TimedEvent[]): ActiveRun {
    annotateActiveSpan({ [ATTR_RUN_ID]: id });
    const run: ActiveRun = {
      id,
      history,
      watchers: new Set(),
      cancelled: false,
      interrupted: false,
      pendingStats: [],
      pendingRounds: [],
      done: Promise.resolve(),
      trace: withRunId(id),
    };
    this.runs.set(id, run);
    return run;
  }

  private trainBatches(cfg: RunConfig, trainSize: number): number {
    return Math.ceil((cfg.trainSamples ? Math.min(cfg.trainSamples, trainSize) : trainSize) / cfg.batchSize);
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

  private async execute(run: ActiveRun, cfg: RunConfig, trainBatchCount: number, start: { initialModel?: Model; resume?: RunSnapshot }): Promise<void> {
    const { store } = this.deps;
    const emit = (body: RunEventBody) => this.publish(run, body);
    try {
      const ports = makeRunPorts(this.deps, run.id, cfg, trainBatchCount, {
        emit,
        isCancelled: () => run.cancelled,
        beforeCommit: () => this.commitRecords(run),
        ...start,
      });
      // Tracked importance lives in the trainer: it needs every tracked step's gradients.
      if (cfg.trackImportance) ports.tracker = makeTracker(cfg, buildNetwork(cfg.arch, cfg.numClasses).filterLayers);
      const summary = await runInContext(run.trace, () => runPruneTrain(cfg, ports));
      await store.updateRun(run.id, { status: 'completed', summary: JSON.parse(JSON.stringify(summary)) as Record<string, unknown> });
      emit({ kind: 'finished', summary });
    } catch (e) {
      const { status, message } = this.failureOf(run, e);
      await store.updateRun(run.id, { status, error: { message } }).catch(() => undefined);
      emit({ kind: 'failed', message });
    }
  }

  /** How a run that threw ends: cancelled, interrupted by shutdown, or failed (with what to do next). */
  private failureOf(run: ActiveRun, e: unknown): { status: 'cancelled' | 'interrupted' | 'failed'; message: string } {
    const resume = `\`flowprune resume ${run.id}\` continues it from its last epoch snapshot`;
    // Whatever a stopping run threw on its way out (RunCancelled, or a call it gave up on).
    if (run.interrupted) return { status: 'interrupted', message: `the trainer shut down before the run finished; ${resume}` };
    if (e instanceof RunCancelled || run.cancelled) return { status: 'cancelled', message: 'cancelled' };
    const details = (e as { details?: string }).details ?? (e as Error).message ?? String(e);
    if (e instanceof DependencyUnavailableError) return { status: 'failed', message: `${details}; once it is back, ${resume}` };
    return { status: 'failed', message: details };
  }

  /**
   * Appends the stats and rounds of the epochs a snapshot is about to commit. Called before the
   * snapshot is named in the run document, and skipping what is already stored: an epoch that ran
   * twice (a failure after it, then resume) is recorded once, and none is lost.
   */
  private async commitRecords(run: ActiveRun): Promise<void> {
    const { store } = this.deps;
    const [stats, rounds] = [run.pendingStats.splice(0), run.pendingRounds.splice(0)];
    if (stats.length === 0 && rounds.length === 0) return;
    const record = await store.getRun(run.id);
    for (const st of stats)
      if (!record?.stats.some((x) => x.phase === st.phase && x.epoch === st.epoch)) await store.appendEpochStat(run.id, st);
    for (const r of rounds) if (!record?.rounds.some((x) => x.round === r.round)) await store.appendRound(run.id, r);
  }

  private publish(run: ActiveRun, body: RunEventBody): void {
    const ev = { unixMs: Date.now(), body };
    if (body.kind !== 'progress') {
      run.history.push(ev);
      this.stage(run, body);
      void this.persist(run.id, body);
    }
    for (const w of run.watchers) {
      w.push(ev);
      if (isTerminal(body)) w.close();
    }
  }

  private async persist(id: string, body: RunEventBody): Promise<void> {
    await this.deps.store.appendEvent(id, { type: body.kind, data: JSON.parse(JSON.stringify(body)) as Record<string, unknown> });
  }

  /** An epoch's stats and a round's record wait for the epoch's snapshot (commitRecords). */
  private stage(run: ActiveRun, body: RunEventBody): void {
    if (body.kind === 'epoch')
      run.pendingStats.push({
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
      run.pendingRounds.push({
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
    if (hasEnded(run)) throw failedPrecondition(`run ${id} has already ended`);
    run.cancelled = true;
    return 'cancelling';
  }

  /**
   * Graceful shutdown: stops active runs at the next batch, marks them `interrupted` (their last
   * epoch snapshot stays committed) and waits for them; `flowprune resume` continues them.
   */
  async drain(graceMs = rpcDefaults().drainGraceMs): Promise<void> {
    const active = [...this.runs.values()].filter((r) => !hasEnded(r));
    for (const r of active) {
      r.interrupted = true;
      r.cancelled = true;
    }
    // A run inside a long Estimate only notices after the call: don't outlast the grace period.
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      Promise.all(active.map((r) => r.done)).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (stopped) return;
    for (const r of active)
      if (!hasEnded(r)) {
        const { status, message } = this.failureOf(r, new RunCancelled());
        await this.deps.store.updateRun(r.id, { status, error: { message } }).catch(() => undefined);
        this.publish(r, { kind: 'failed', message });
      }
  }
}
