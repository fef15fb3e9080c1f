// The storage contract for run records. FileRunStore implements it on the local disk; a MongoDB
// adapter is planned and must pass the same contract suite (contract.ts).

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
} from './types.js';

export interface RunStore {
  /** Creates a run with a fresh sortable id, status `created` unless given, empty stats/rounds. */
  createRun(doc: RunRecordInput): Promise<RunRecord>;
  /** The run, or null when there is none with this id. */
  getRun(id: string): Promise<RunRecord | null>;
  /** Shallow-merges top-level fields and bumps `updatedAt`; throws StoreError `not_found`. */
  updateRun(id: string, patch: RunPatch): Promise<RunRecord>;
  /** Appends one epoch's stats; concurrent appends from several processes are all kept. */
  appendEpochStat(id: string, stat: EpochStat): Promise<RunRecord>;
  /** Appends one pruning round. */
  appendRound(id: string, round: RoundRecord): Promise<RunRecord>;
  /** Appends to the run's event log (not part of the run document). */
  appendEvent(id: string, event: RunEventInput): Promise<RunEvent>;
  /** The run's events in append order. */
  readEvents(id: string): Promise<RunEvent[]>;
  /** Runs matching every given filter field, oldest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Stores (or replaces) checkpoint bytes, e.g. a safetensors file, with optional JSON meta. */
  putCheckpoint(id: string, name: string, bytes: Uint8Array, meta?: Record<string, unknown>): Promise<CheckpointInfo>;
  /** The checkpoint, or null when the run has none of that name. */
  getCheckpoint(id: string, name: string): Promise<Checkpoint | null>;
  /** The run's checkpoints sorted by name. */
  listCheckpoints(id: string): Promise<CheckpointInfo[]>;
}
