// A view of a RunStore for the trainer that holds one run's lease: every write to that run carries
// the lease's fencing token, so code written against RunStore (the run loop's ports, snapshots)
// is fenced without knowing about leases. Reads, and writes to other runs, pass through.
import type { RunStore } from './run-store.js';
import type { EpochStat, RoundRecord, RunEventInput, RunPatch, WriteOptions } from './types.js';

export function fencedStore(store: RunStore, runId: string, token: number): RunStore {
  const opts = (id: string, options?: WriteOptions): WriteOptions | undefined => (id === runId ? { ...options, fence: token } : options);
  return {
    createRun: (doc) => store.createRun(doc),
    getRun: (id) => store.getRun(id),
    updateRun: (id: string, patch: RunPatch, options?: WriteOptions) => store.updateRun(id, patch, opts(id, options)),
    appendEpochStat: (id: string, stat: EpochStat, options?: WriteOptions) => store.appendEpochStat(id, stat, opts(id, options)),
    appendRound: (id: string, round: RoundRecord, options?: WriteOptions) => store.appendRound(id, round, opts(id, options)),
    appendEvent: (id: string, event: RunEventInput, options?: WriteOptions) => store.appendEvent(id, event, opts(id, options)),
    readEvents: (id) => store.readEvents(id),
    listRuns: (filter) => store.listRuns(filter),
    putCheckpoint: (id, name, bytes, meta, options) => store.putCheckpoint(id, name, bytes, meta, opts(id, options)),
    getCheckpoint: (id, name) => store.getCheckpoint(id, name),
    listCheckpoints: (id) => store.listCheckpoints(id),
    enqueueRun: (id) => store.enqueueRun(id),
    claimRun: (holder, leaseMs) => store.claimRun(holder, leaseMs),
    renewLease: (id, t, leaseMs) => store.renewLease(id, t, leaseMs),
    releaseRun: (id, t, patch) => store.releaseRun(id, t, patch),
    requestCancel: (id) => store.requestCancel(id),
  };
}
