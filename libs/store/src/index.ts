// @flowprune/store: run records (RunStore) with an embedded file implementation. Plain Node +
// TypeScript; no gRPC or TensorFlow. The contract suite lives in ./contract.ts (not exported
// here because it imports node:test).

export * from './types.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type { RunStore } from './run-store.js';
export { fencedStore } from './fenced-store.js';
export {
  applyCancelRequest,
  applyClaim,
  applyEnqueue,
  applyRelease,
  applyRenewal,
  checkFence,
  compareQueued,
  ENDED_STATUSES,
  isClaimable,
  isEnded,
  queuePositions,
  type CancelOutcome,
} from './queue.js';
export { FileRunStore, createFileRunStore, type FileRunStoreOptions } from './file-run-store.js';
export { generateRunId, validateCheckpointName, validateRunId } from './ids.js';
export { withFileLock, type LockOptions } from './file-lock.js';
export { writeFileAtomic } from './atomic-file.js';
export { assertPlainJson } from './json-check.js';
export {
  applyRunPatch,
  buildRunEvent,
  buildRunRecord,
  compareRuns,
  matchesRunFilter,
  validateCheckpointMeta,
  validateEpochStat,
  validateRound,
} from './record.js';
export { MongoRunStore, createMongoRunStore, type MongoRunStoreOptions } from './mongo-run-store.js';
export { isMongoUri, openRunStore } from './open-store.js';
