// The storage contract for run records. FileRunStore implements it on the local disk, MongoRunStore
// on a MongoDB replica set; both pass the same contract suite (contract.ts).
//
// The store is also the trainers' work queue: StartRun enqueues, each trainer claims the oldest
// queued run under a lease it renews, and a run whose lease expired is claimable again (takeover).
// Every claim issues a larger fencing token; writes that carry `{ fence }` are refused once another
// claim has happened, so a trainer that was paused or partitioned cannot write over its successor.

import type {
  Checkpoint,
  CheckpointInfo,
  EpochStat,
  RoundRecord,
  RunEvent,
  RunEventInput,
  RunFilter,
  RunPatch,
  RunRecord,
  RunRecordInput,
  WriteOptions,
} from './types.js';
import type { CancelOutcome } from './queue.js';

export interface RunStore {
  /** Creates a run with a fresh sortable id, status `created` unless given, empty stats/rounds. */
  createRun(doc: RunRecordInput): Promise<RunRecord>;
  /** The run, or null when there is none with this id. */
  getRun(id: string): Promise<RunRecord | null>;
  /** Shallow-merges top-level fields and bumps `updatedAt`; throws StoreError `not_found`. */
  updateRun(id: string, patch: RunPatch, options?: WriteOptions): Promise<RunRecord>;
  /** Appends one epoch's stats; concurrent appends from several processes are all kept. */
  appendEpochStat(id: string, stat: EpochStat, options?: WriteOptions): Promise<RunRecord>;
  /** Appends one pruning round. */
  appendRound(id: string, round: RoundRecord, options?: WriteOptions): Promise<RunRecord>;
  /** Appends to the run's event log (not part of the run document); a fenced append stamps the event with its token. */
  appendEvent(id: string, event: RunEventInput, options?: WriteOptions): Promise<RunEvent>;
  /** The run's events in append order. */
  readEvents(id: string): Promise<RunEvent[]>;
  /** Runs matching every given filter field, oldest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Stores (or replaces) checkpoint bytes, e.g. a safetensors file, with optional JSON meta. */
  putCheckpoint(id: string, name: string, bytes: Uint8Array, meta?: Record<string, unknown>, options?: WriteOptions): Promise<CheckpointInfo>;
  /** The checkpoint, or null when the run has none of that name. */
  getCheckpoint(id: string, name: string): Promise<Checkpoint | null>;
  /** The run's checkpoints sorted by name. */
  listCheckpoints(id: string): Promise<CheckpointInfo[]>;

  // The queue. Each is one atomic step on the run (file: under its lock; MongoDB: one conditional update).
  /** Puts a created or stopped run into the queue (see applyEnqueue); `conflict` if completed or held under a live lease. */
  enqueueRun(id: string): Promise<RunRecord>;
  /** Claims the oldest claimable run for `holder` for `leaseMs`; null when there is none. */
  claimRun(holder: string, leaseMs: number): Promise<RunRecord | null>;
  /** Extends the lease with this token by `leaseMs` from now; `fenced` if the run was claimed again meanwhile. */
  renewLease(id: string, token: number, leaseMs: number): Promise<RunRecord>;
  /** The holder's final write: sets the patch (with the final status) and drops the lease; `fenced` if stale. */
  releaseRun(id: string, token: number, patch: RunPatch): Promise<RunRecord>;
  /** Cancels a queued run at once, or flags a running one for its holder; `conflict` if it has ended. */
  requestCancel(id: string): Promise<{ run: RunRecord; outcome: CancelOutcome }>;
}
