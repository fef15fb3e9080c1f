// A trainer replica's share of the work. StartRun only queues a run in the store; a claim loop takes
// queued runs (oldest first, at most `maxRuns` at a time) under a lease it renews while it works,
// and runs whose trainer stopped renewing are claimed again and resume from their last snapshot.
// Every write about a held run carries the lease's fencing token (fencedStore), so a trainer that
// lost its lease (paused, partitioned) is refused by the store and stops. Watch, cancel and resume
// go through the store, so any replica answers them.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkWith, DependencyUnavailableError, failedPrecondition, idempotentCall, invalidArgument, notFound, rpcDefaults } from '@flowprune/grpc';
import { checkDataFits, DataFitError, GRAPH_ARCH, GRAPH_METADATA_KEY, Model, networkOf, parseSafeTensors, type Network } from '@flowprune/models';
import type { RunSpec } from '@flowprune/proto';
import { fencedStore, isEnded, StoreError, type EpochStat, type RoundRecord, type RunEvent, type RunPatch, type RunRecord, type RunStore } from '@flowprune/store';
import { annotateActiveSpan, ATTR_RUN_ID, contextCarrier, contextFromCarrier, runInContext, withRunId, type Context } from '@flowprune/telemetry';
import {
  eventDocument,
  makeTracker,
  nextEpochOf,
  planEpochs,
  readEvent,
  readResume,
  readSummary,
  RunCancelled,
  runNetwork,
  runPruneTrain,
  summaryDocument,
  type RunConfig,
  type RunEventBody,
  type RunSummaryData,
} from '@flowprune/training';
import { AsyncQueue } from './async-queue.js';
import { makeRunAnalysis } from './run-analysis.js';
import { makeRunPorts, type PortDeps } from './run-ports.js';
import { loadSnapshot } from './run-snapshots.js';
import { epochStatOf, readStored, roundRecordOf, runConfigFromRecord, runConfigFromSpec, runRecordInput } from './run-spec.js';

export type TrainerDeps = PortDeps;

/** How this replica takes part in the queue. */
export interface QueueOptions {
  /** This trainer's id in leases (`flowprune runs ls` shows it). */
  holder: string;
  /** Runs this trainer works on at once. */
  maxRuns: number;
  /** A lease not renewed for this long lets another trainer take the run over. */
  leaseMs: number;
  /** How often a held lease is renewed (well under leaseMs). */
  renewMs: number;
  /** How often an idle trainer looks for queued runs, and a store-backed WatchRun for new events. */
  pollMs: number;
  log: (line: string) => void;
}

export const defaultQueueOptions = (): QueueOptions => ({
  holder: `${hostname()}:${process.pid}`,
  maxRuns: 1,
  leaseMs: 30_000,
  renewMs: 10_000,
  pollMs: 1_000,
  log: (line) => console.error(line),
});

/** The checkpoint holding a run's pretrained starting weights until a trainer claims it. */
const PRETRAINED_CHECKPOINT = 'pretrained';

export interface TimedEvent {
  unixMs: number;
  body: RunEventBody;
}

interface ActiveRun {
  id: string;
  /** This claim's fencing token. */
  token: number;
  /** The store with every write to this run fenced by `token`. */
  store: RunStore;
  history: TimedEvent[];
  /** `history` holds the run's stored events (read once the run is claimed). */
  historyLoaded: boolean;
  watchers: Set<AsyncQueue<TimedEvent>>;
  cancelled: boolean;
  /** Stopped by the trainer's shutdown (SIGTERM), not by CancelRun: left resumable. */
  interrupted: boolean;
  /** Another trainer holds the run now: this one writes nothing more about it. */
  lost: boolean;
  /** The final status is being recorded (no renewals meanwhile) / is recorded and the lease released. */
  ending: boolean;
  ended: boolean;
  /** execute() has returned: the run no longer takes a slot of --max-runs. */
  settled: boolean;
  /** Stats and rounds of epochs not yet committed by a snapshot (see commitRecords). */
  pendingStats: EpochStat[];
  pendingRounds: RoundRecord[];
  /** Event appends, in order. */
  persisting: Promise<void>;
  done: Promise<void>;
  /** The trace context with the run id as baggage: the run continues its trace. */
  trace: Context;
}

const isStoreError = (e: unknown, code: StoreError['code']): boolean => e instanceof StoreError && e.code === code;

/** A StoreError as the RPC status it means; anything else unchanged. */
function rpcErrorOf(e: unknown): unknown {
  if (isStoreError(e, 'not_found')) return notFound((e as Error).message);
  if (isStoreError(e, 'conflict')) return failedPrecondition((e as Error).message);
  return e;
}

/** A stored event, checked, as watchers see it; undefined for a type that is no run event (skipped). */
function timedEvent(e: RunEvent, index: number): TimedEvent | undefined {
  const body = readStored({ id: e.runId }, () => readEvent(e.type, e.data, `event ${index}`));
  return body && { unixMs: Date.parse(e.at), body };
}

const storedEvents = (events: RunEvent[]): TimedEvent[] => events.map(timedEvent).filter((e): e is TimedEvent => e !== undefined);

export class RunManager {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly queue: QueueOptions;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly deps: TrainerDeps,
    queue: Partial<QueueOptions> = {},
  ) {
    this.queue = { ...defaultQueueOptions(), ...queue };
  }

  /** Starts claiming queued runs (call once the service is up). */
  startClaiming(): void {
    this.loop ??= this.claimLoop();
  }

  /** Validates the spec and queues the run; returns its id at once. */
  async start(spec: RunSpec): Promise<string> {
    if (!spec.dataset?.name) throw invalidArgument('spec.dataset.name', 'is required (a dataset the data-loader serves)');
    const described = await idempotentCall(this.deps.dataLoader, this.deps.dataLoader.describe, { dataset: spec.dataset }, { name: 'data-loader' });
    const pretrained = spec.pretrained ? await this.loadPretrained(spec) : undefined;
    // An imported model is its own architecture: its graph, input size and class count come with it.
    const imported = pretrained?.net.arch === GRAPH_ARCH ? pretrained.net : undefined;
    if (imported && spec.numClasses && spec.numClasses !== imported.numClasses)
      throw invalidArgument('spec.num_classes', `is ${spec.numClasses} but the imported model predicts ${imported.numClasses} classes; leave it 0`);
    // A stored built-in checkpoint without an arch is what its metadata says.
    const arch = imported ? GRAPH_ARCH : spec.arch || pretrained?.net.arch || '';
    const cfg = runConfigFromSpec({ ...spec, arch }, imported?.numClasses ?? described.numClasses);
    if (!imported && cfg.numClasses !== described.numClasses)
      throw invalidArgument('spec.num_classes', `is ${cfg.numClasses} but dataset ${cfg.dataset} has ${described.numClasses} classes`);
    const net = runNetwork(cfg, imported);
    try {
      checkDataFits({ input: net.graph.input, numClasses: net.numClasses }, imported ? 'spec.pretrained (imported)' : cfg.arch, { ...described, classes: described.numClasses }, cfg.dataset);
    } catch (e) {
      if (e instanceof DataFitError) throw invalidArgument('spec.dataset', e.message);
      throw e;
    }
    if (cfg.measure && !cfg.trackImportance) await this.deps.estimators.resolve(cfg.measure);
    // The run continues this call's trace in whichever trainer claims it.
    const record = await this.deps.store.createRun({ ...runRecordInput(cfg, this.deps.backend), trace: contextCarrier() });
    annotateActiveSpan({ [ATTR_RUN_ID]: record.id });
    // The starting weights travel with the run: whichever trainer claims it reads them from the store.
    if (pretrained) await this.deps.store.putCheckpoint(record.id, PRETRAINED_CHECKPOINT, pretrained.bytes);
    await this.deps.store.enqueueRun(record.id);
    this.kick();
    return record.id;
  }

  /**
   * Puts a stopped run back into the queue; the trainer that claims it continues from its last epoch
   * snapshot. With the same backend the result is bit-identical to an uninterrupted run: data order
   * and augmentation are pure functions of (seed, epoch), and the snapshot holds weights, BN
   * statistics, masks and momentum.
   */
  async resume(id: string): Promise<{ nextEpoch: number; totalEpochs: number }> {
    const active = this.runs.get(id);
    if (active && this.isLive(active)) throw failedPrecondition(`run ${id} is running on this trainer; watch it instead`);
    const resumeTrace = contextCarrier();
    if (Object.keys(resumeTrace).length > 0) await this.deps.store.updateRun(id, { trace: resumeTrace }).catch(() => undefined); // the resumed session continues this call's trace
    const record = await this.deps.store.enqueueRun(id).catch((e: unknown) => {
      throw isStoreError(e, 'not_found') ? notFound(`run ${id} does not exist`) : rpcErrorOf(e);
    });
    this.runs.delete(id);
    this.kick();
    return { nextEpoch: readStored(record, () => nextEpochOf(record.resume)), totalEpochs: planEpochs(runConfigFromRecord(record)).length };
  }

  /** Past events, then live ones until the run ends: from memory on the holder, else from the store. */
  async *watch(id: string): AsyncGenerator<TimedEvent> {
    const run = this.runs.get(id);
    if (!run || !this.isLive(run) || !run.historyLoaded) {
      yield* this.watchStore(id);
      return;
    }
    yield* this.watchLocal(run, 0);
  }

  /** A run this trainer holds: its history from `from` on, then its events as they are published (progress included). */
  private async *watchLocal(run: ActiveRun, from: number): AsyncGenerator<TimedEvent> {
    const queue = new AsyncQueue<TimedEvent>();
    const past = run.history.slice(from);
    run.watchers.add(queue);
    try {
      for (const e of past) yield e;
      for await (const e of queue) yield e;
    } finally {
      run.watchers.delete(queue);
    }
  }

  async cancel(id: string): Promise<string> {
    const run = this.runs.get(id);
    if (run && this.isLive(run)) {
      run.cancelled = true;
      return 'cancelling';
    }
    try {
      // Queued: cancelled at once. Running elsewhere: flagged; its holder stops at its next renewal.
      const { run: record, outcome } = await this.deps.store.requestCancel(id);
      if (outcome === 'cancelled') await this.deps.store.appendEvent(id, { ...eventDocument({ kind: 'failed', message: 'cancelled' }), fence: record.fence });
      return outcome;
    } catch (e) {
      if (isStoreError(e, 'conflict')) throw failedPrecondition(`run ${id} has already ended`);
      throw rpcErrorOf(e);
    }
  }

  /**
   * Graceful shutdown: stops claiming, stops active runs at the next batch, marks them `interrupted`
   * (their last epoch snapshot stays committed) and waits for them; `flowprune resume` continues them.
   */
  async drain(graceMs = rpcDefaults().drainGraceMs): Promise<void> {
    this.stopping = true;
    this.kick();
    const active = [...this.runs.values()].filter((r) => this.isLive(r));
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
    if (!stopped) for (const r of active) if (this.isLive(r)) await this.end(r, this.failureOf(r, new RunCancelled())).catch(() => undefined);
    await this.loop;
  }

  /** Held by this trainer and not ended. */
  private isLive(run: ActiveRun): boolean {
    return !run.ended && !run.lost;
  }

  private kick(): void {
    this.wake?.();
  }

  private async claimLoop(): Promise<void> {
    const { log, holder, leaseMs, pollMs, maxRuns } = this.queue;
    while (!this.stopping) {
      // A lost run counts until it has stopped computing.
      const working = [...this.runs.values()].filter((r) => !r.settled).length;
      if (working < maxRuns) {
        let claimed: RunRecord | null = null;
        try {
          claimed = await this.deps.store.claimRun(holder, leaseMs);
        } catch (e) {
          log(`trainer ${holder}: claiming from the run store failed: ${(e as Error).message}`);
        }
        if (claimed) {
          if (this.stopping) {
            // Shutting down: hand the run straight back, in its place in the queue.
            await this.deps.store.releaseRun(claimed.id, claimed.lease!.token, { status: 'queued' }).catch(() => undefined);
            break;
          }
          this.launch(claimed);
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private launch(record: RunRecord): void {
    const token = record.lease!.token;
    const run: ActiveRun = {
      id: record.id,
      token,
      store: fencedStore(this.deps.store, record.id, token),
      history: [],
      historyLoaded: false,
      watchers: new Set(),
      cancelled: record.cancelRequested === true,
      interrupted: false,
      lost: false,
      ending: false,
      ended: false,
      settled: false,
      pendingStats: [],
      pendingRounds: [],
      persisting: Promise.resolve(),
      done: Promise.resolve(),
      trace: withRunId(record.id, contextFromCarrier(record.trace)),
    };
    this.runs.set(record.id, run);
    const renewal = setInterval(() => void this.renew(run), this.queue.renewMs);
    // The whole session (its data-loader calls too) continues the trace of the call that queued the run.
    run.done = runInContext(run.trace, () => this.execute(run, record)).finally(() => {
      run.settled = true;
      clearInterval(renewal);
      this.kick();
    });
  }

  private async renew(run: ActiveRun): Promise<void> {
    if (!this.isLive(run) || run.ending) return;
    try {
      const record = await this.deps.store.renewLease(run.id, run.token, this.queue.leaseMs);
      if (record.cancelRequested) run.cancelled = true;
    } catch (e) {
      if (isStoreError(e, 'fenced')) this.lose(run, e);
      else this.queue.log(`trainer ${this.queue.holder}: renewing the lease of run ${run.id} failed (retrying): ${(e as Error).message}`);
    }
  }

  /** The run was claimed by another trainer: stop working on it and write nothing more. */
  private lose(run: ActiveRun, e: unknown): void {
    if (run.lost || run.ended) return;
    run.lost = true;
    run.cancelled = true;
    this.queue.log(`trainer ${this.queue.holder}: lost the lease of run ${run.id} (token ${run.token}); stopping work on it: ${(e as Error).message}`);
    // Watchers here stop; a new WatchRun follows the run through the store.
    for (const w of run.watchers) w.close();
  }

  private trainBatches(cfg: RunConfig, trainSize: number): number {
    return Math.ceil((cfg.trainSamples ? Math.min(cfg.trainSamples, trainSize) : trainSize) / cfg.batchSize);
  }

  /** The pretrained weights of a spec, checked, as safetensors bytes, and the network they are weights of. */
  private async loadPretrained(spec: RunSpec): Promise<{ bytes: Uint8Array; net: Network }> {
    const ref = spec.pretrained!;
    const bytes = ref.safetensors?.length
      ? ref.safetensors
      : ref.checkpoint
        ? (await this.deps.store.getCheckpoint(ref.checkpoint.runId, ref.checkpoint.name))?.bytes
        : undefined;
    if (!bytes) throw notFound('spec.pretrained: checkpoint not found in the run store');
    // Without an arch, the checkpoint's metadata says what it is (an imported model: its graph).
    const arch = spec.arch && spec.arch !== GRAPH_ARCH ? spec.arch : undefined;
    if (arch && checkWith('spec.pretrained', () => parseSafeTensors(bytes, 'spec.pretrained')).metadata[GRAPH_METADATA_KEY] !== undefined)
      throw invalidArgument('spec.arch', `is ${arch} but spec.pretrained is an imported model, whose graph is the architecture; leave arch empty`);
    const model = Model.fromSafeTensors(bytes, { arch }, 'spec.pretrained');
    model.dispose();
    return { bytes, net: model.net };
  }

  private async execute(run: ActiveRun, record: RunRecord): Promise<void> {
    const { store } = run;
    const emit = (body: RunEventBody) => this.publish(run, body);
    try {
      const cfg = runConfigFromRecord(record);
      // Watchers see the whole run; an earlier session's end is not this run's end.
      run.history = storedEvents(await store.readEvents(run.id)).filter((e) => e.body.kind !== 'finished' && e.body.kind !== 'failed');
      run.historyLoaded = true;
      await store.updateRun(run.id, { backend: this.deps.backend, error: undefined });
      const described = await idempotentCall(this.deps.dataLoader, this.deps.dataLoader.describe, { dataset: { name: cfg.dataset } }, { name: 'data-loader' });
      const resume = record.resume ? readStored(record, () => readResume(record.resume)) : undefined;
      const snapshot = resume ? await loadSnapshot(store, run.id, resume) : undefined;
      // An imported model's graph is in its starting checkpoint: a resumed run reads it for the unpruned network.
      const pretrained = snapshot && cfg.arch !== GRAPH_ARCH ? undefined : (await store.getCheckpoint(run.id, PRETRAINED_CHECKPOINT))?.bytes;
      const importedNetwork = cfg.arch === GRAPH_ARCH && pretrained ? networkOf(pretrained, 'spec.pretrained') : undefined;
      const initialModel = pretrained && !snapshot ? Model.fromSafeTensors(pretrained, cfg.arch === GRAPH_ARCH ? {} : { arch: cfg.arch }, 'spec.pretrained') : undefined;
      const baseNetwork = runNetwork(cfg, importedNetwork);
      if (record.fence! > 1) this.queue.log(`trainer ${this.queue.holder}: claimed run ${run.id} (token ${run.token}), resuming before epoch ${snapshot?.progress.nextEpoch ?? 0}`);
      const ports = makeRunPorts({ ...this.deps, store }, run.id, cfg, this.trainBatches(cfg, described.trainSize), {
        emit,
        isCancelled: () => run.cancelled,
        beforeCommit: () => this.commitRecords(run),
        initialModel,
        importedNetwork,
        resume: snapshot,
      });
      // Tracked importance lives in the trainer: it needs every tracked step's gradients.
      if (cfg.trackImportance) ports.tracker = makeTracker(cfg, baseNetwork.filterLayers);
      ports.analysis = makeRunAnalysis(this.deps.dataLoader, cfg, emit, () => run.cancelled);
      const summary = await runPruneTrain(cfg, ports);
      await this.end(run, { status: 'completed', summary });
    } catch (e) {
      if (run.ended) return; // the drain recorded the end already
      if (run.lost || isStoreError(e, 'fenced')) {
        this.lose(run, e);
        return;
      }
      await this.end(run, this.failureOf(run, e)).catch((err: unknown) => {
        if (isStoreError(err, 'fenced')) this.lose(run, err);
        else this.queue.log(`trainer ${this.queue.holder}: recording the end of run ${run.id} failed: ${(err as Error).message}`);
      });
    }
  }

  /**
   * Records the run's end: the terminal event (stamped with this claim's token), then the final
   * status with the lease released, and only then tells the watchers, so that a client that saw
   * the end also finds it in the store.
   */
  private async end(
    run: ActiveRun,
    outcome: { status: 'completed'; summary: RunSummaryData } | { status: 'cancelled' | 'interrupted' | 'failed'; message: string },
  ): Promise<void> {
    const body: RunEventBody = outcome.status === 'completed' ? { kind: 'finished', summary: outcome.summary } : { kind: 'failed', message: outcome.message };
    const patch: RunPatch =
      outcome.status === 'completed' ? { status: 'completed', summary: summaryDocument(outcome.summary) } : { status: outcome.status, error: { message: outcome.message } };
    run.ending = true;
    this.persist(run, body);
    await run.persisting;
    if (run.lost) throw new StoreError('fenced', `run ${run.id}: lease lost before its end was recorded`);
    await this.deps.store.releaseRun(run.id, run.token, patch);
    run.ended = true;
    const ev = { unixMs: Date.now(), body };
    run.history.push(ev);
    for (const w of run.watchers) {
      w.push(ev);
      w.close();
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
   * twice (a failure or takeover after it, then resume) is recorded once, and none is lost.
   */
  private async commitRecords(run: ActiveRun): Promise<void> {
    const { store } = run;
    const [stats, rounds] = [run.pendingStats.splice(0), run.pendingRounds.splice(0)];
    if (stats.length === 0 && rounds.length === 0) return;
    const record = await store.getRun(run.id);
    for (const st of stats)
      if (!record?.stats.some((x) => x.phase === st.phase && x.epoch === st.epoch)) await store.appendEpochStat(run.id, st);
    for (const r of rounds) if (!record?.rounds.some((x) => x.round === r.round)) await store.appendRound(run.id, r);
  }

  /** Live events go to watchers; all but batch progress are stored (in order) and stats staged. Terminal ones go through end(). */
  private publish(run: ActiveRun, body: RunEventBody): void {
    if (run.lost) return;
    const ev = { unixMs: Date.now(), body };
    if (body.kind !== 'progress') {
      run.history.push(ev);
      if (body.kind === 'epoch') run.pendingStats.push(epochStatOf(body));
      if (body.kind === 'round') run.pendingRounds.push(roundRecordOf(body));
      this.persist(run, body);
    }
    for (const w of run.watchers) w.push(ev);
  }

  private persist(run: ActiveRun, body: RunEventBody): void {
    run.persisting = run.persisting
      .then(() => run.store.appendEvent(run.id, eventDocument(body)))
      .then(
        () => undefined,
        (e: unknown) => {
          if (isStoreError(e, 'fenced')) this.lose(run, e);
          else this.queue.log(`trainer ${this.queue.holder}: storing an event of run ${run.id} failed: ${(e as Error).message}`);
        },
      );
  }

  /**
   * A run's events from the store, polled until the run has ended. Terminal events of earlier
   * sessions (a failure before a resume) are skipped: only the one stamped with the run's current
   * token ends the watch, once the final status is recorded too.
   */
  private async *watchStore(id: string): AsyncGenerator<TimedEvent> {
    const { store } = this.deps;
    let seen = 0;
    // Stored non-terminal events yielded so far: the same prefix of a local run's history.
    let yielded = 0;
    let endedPolls = 0;
    for (;;) {
      // Claimed here meanwhile (a watch that began while the run was queued): follow it live, with
      // its progress events, which the store does not keep.
      const live = this.runs.get(id);
      if (live && this.isLive(live) && live.historyLoaded) {
        yield* this.watchLocal(live, yielded);
        return;
      }
      const record = await store.getRun(id);
      if (!record) throw notFound(`run ${id} does not exist`);
      const events = await store.readEvents(id);
      for (; seen < events.length; seen++) {
        const e = events[seen];
        const timed = timedEvent(e, seen);
        if (!timed) continue;
        if (timed.body.kind === 'finished' || timed.body.kind === 'failed') {
          if (e.fence !== record.fence) continue;
          if (!isEnded(record.status)) break; // the end is being recorded: wait for the status
          yield timed;
          return;
        }
        yield timed;
        yielded++;
      }
      // Ended without a terminal event of its own (e.g. a record from before the queue): say how it ended.
      if (isEnded(record.status) && ++endedPolls > 3) {
        const summary = record.status === 'completed' && record.summary ? readStored(record, () => readSummary(record.summary)) : undefined;
        yield {
          unixMs: Date.parse(record.updatedAt),
          body: summary ? { kind: 'finished', summary } : { kind: 'failed', message: record.error?.message ?? record.status },
        };
        return;
      }
      await sleep(this.queue.pollMs);
    }
  }
}

