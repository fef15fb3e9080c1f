// The run document. FileRunStore stores it as plain JSON and MongoRunStore as-is in a collection,
// so it holds only JSON values (strings, finite numbers, booleans, null, arrays, plain objects) —
// timestamps are ISO-8601 strings, not Date objects.

// `queued`: waiting for a trainer to claim it (oldest `queuedAt` first); `running`: held by a trainer under a lease.
// `interrupted`: stopped by a trainer shutdown (SIGTERM); `flowprune resume` continues it from its last epoch snapshot.
export const RUN_STATUSES = ['created', 'queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The three phases of the paper's schedule: dense warm-up, prune-while-training, fine-tune. */
export const TRAINING_PHASES = ['warmup', 'pruning_and_training', 'final_training'] as const;
export type TrainingPhase = (typeof TRAINING_PHASES)[number];

/** One epoch of training, appended as it finishes. */
export interface EpochStat {
  phase: TrainingPhase;
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  testLoss?: number;
  testAcc?: number;
  /** Wall-clock seconds the epoch took. */
  seconds: number;
  /** Pruning round the epoch belongs to, when in the pruning phase. */
  round?: number;
  /** Free-form extra numbers (e.g. per-phase timings); must be JSON. */
  extra?: Record<string, unknown>;
}

/** Channels left in one prunable layer after a round. */
export interface LayerChannels {
  layer: string;
  remaining: number;
  /** Channels before any pruning. */
  original?: number;
}

/** One pruning round. Layers are an array (not an object keyed by name) because layer names
 *  such as `features.0.conv` contain dots, which MongoDB field paths cannot address. */
export interface RoundRecord {
  round: number;
  /** Fraction of prunable channels removed so far (0..1). */
  prunedFraction: number;
  remainingChannels: LayerChannels[];
  /** Test accuracy right after pruning, before fine-tuning. */
  accuracyBeforeFineTune?: number;
  epoch?: number;
  at?: string;
}

export interface RunErrorInfo {
  message: string;
  code?: string;
  stack?: string;
}

export interface RunRecord {
  /** Sortable unique id, e.g. `20261124-153012-ab12cd` (UTC time + random hex). */
  id: string;
  /** ISO-8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  /** The full experiment specification as submitted (JSON). */
  spec: Record<string, unknown>;
  model: string;
  dataset: string;
  /** Importance measure, e.g. `magnitude`, `loss-preservation`, `grasp`. */
  measure?: string;
  pruneRatio?: number;
  seed?: number;
  backend?: string;
  stats: EpochStat[];
  rounds: RoundRecord[];
  summary?: Record<string, unknown>;
  error?: RunErrorInfo;
  /** Where a stopped run can continue: the trainer's last epoch snapshot (JSON). */
  resume?: Record<string, unknown>;
  /** When the run last entered the queue; trainers claim the oldest first. */
  queuedAt?: string;
  /** The trainer working on the run; present only while status is `running`. */
  lease?: RunLease;
  /** The last fencing token issued for this run (grows by one with every claim). */
  fence?: number;
  /** CancelRun reached a replica that does not hold the run: the holder stops at its next renewal. */
  cancelRequested?: boolean;
  /** W3C trace context (traceparent, baggage) of the call that queued the run: its trainer continues that trace. */
  trace?: Record<string, string>;
}

/** A trainer's claim on a run: valid until `expiresAt` unless renewed with the same token. */
export interface RunLease {
  /** The claiming trainer's id (host, pid), shown by `flowprune runs ls`. */
  holder: string;
  /** Fencing token: every write the holder makes carries it; the store refuses a stale one. */
  token: number;
  claimedAt: string;
  expiresAt: string;
}

/** Options of a write to one run. */
export interface WriteOptions {
  /** The writer's lease token: the write is refused (StoreError `fenced`) unless it is the run's current lease. */
  fence?: number;
}

/** What a caller supplies to create a run; the store fills in id, timestamps and lists. */
export interface RunRecordInput {
  spec: Record<string, unknown>;
  model: string;
  dataset: string;
  measure?: string;
  pruneRatio?: number;
  seed?: number;
  backend?: string;
  /** Defaults to `created`. */
  status?: RunStatus;
  summary?: Record<string, unknown>;
  trace?: Record<string, string>;
}

/**
 * Shallow patch of top-level fields (a field set to `undefined` is removed). `stats` and `rounds`
 * are excluded on purpose: use the append methods so concurrent writers never overwrite them.
 */
export type RunPatch = Partial<Omit<RunRecord, 'id' | 'createdAt' | 'updatedAt' | 'stats' | 'rounds' | 'queuedAt' | 'lease' | 'fence'>>;

/** Exact-match filters; every given field must match. */
export interface RunFilter {
  model?: string;
  dataset?: string;
  measure?: string;
  pruneRatio?: number;
  seed?: number;
  backend?: string;
  status?: RunStatus | RunStatus[];
}

export interface RunEventInput {
  /** Short machine-readable kind, e.g. `phase-start`, `checkpoint`, `warning`. */
  type: string;
  message?: string;
  data?: Record<string, unknown>;
  /** Defaults to the time of appending. */
  at?: string;
  /** The lease token (claim) the event belongs to; a fenced append sets it. Tells one session's events from an earlier one's. */
  fence?: number;
}

export interface RunEvent extends RunEventInput {
  runId: string;
  at: string;
}

export interface CheckpointInfo {
  name: string;
  /** Size of the checkpoint bytes. */
  size: number;
  /** Hex SHA-256 of the bytes, to detect torn or swapped files. */
  sha256: string;
  createdAt: string;
  meta?: Record<string, unknown>;
}

export interface Checkpoint {
  info: CheckpointInfo;
  bytes: Uint8Array;
}
