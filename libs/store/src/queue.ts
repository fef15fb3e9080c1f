// The run queue's rules as pure functions over run documents, so the file store applies exactly
// these and the MongoDB store's conditional updates can be checked against them (contract.ts).
// A run is claimable when it is queued, or running under a lease that has expired (its trainer
// stopped renewing: crash, kill -9, partition). Each claim issues the next fencing token.
import { StoreError } from './errors.js';
import { applyRunPatch } from './record.js';
import type { RunPatch, RunRecord, RunStatus } from './types.js';

/** Statuses a run does not leave by itself. */
export const ENDED_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'interrupted'];
/** Statuses from which enqueueRun puts a run (back) into the queue. */
export const ENQUEUEABLE_STATUSES: readonly RunStatus[] = ['created', 'failed', 'cancelled', 'interrupted'];

export const isEnded = (status: RunStatus): boolean => ENDED_STATUSES.includes(status);

const conflict = (message: string): StoreError => new StoreError('conflict', message);

function requireLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new StoreError('invalid_argument', `lease duration must be a positive number of milliseconds, got ${leaseMs}`);
}

/** Queued, or running under an expired lease (`expiresAt` ≤ now; ISO strings compare as times). */
export function isClaimable(doc: RunRecord, nowIso: string): boolean {
  return doc.status === 'queued' || (doc.status === 'running' && doc.lease !== undefined && doc.lease.expiresAt <= nowIso);
}

/** Submission order: oldest `queuedAt` first, ties by id. */
export function compareQueued(a: RunRecord, b: RunRecord): number {
  const qa = a.queuedAt ?? a.createdAt;
  const qb = b.queuedAt ?? b.createdAt;
  if (qa !== qb) return qa < qb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** 1-based positions of the queued runs among `runs`, in claim order. */
export function queuePositions(runs: readonly RunRecord[]): Map<string, number> {
  const queued = runs.filter((r) => r.status === 'queued').sort(compareQueued);
  return new Map(queued.map((r, i) => [r.id, i + 1]));
}

export function applyClaim(doc: RunRecord, holder: string, leaseMs: number, now: Date): RunRecord {
  requireLeaseMs(leaseMs);
  if (typeof holder !== 'string' || holder.length === 0) throw new StoreError('invalid_argument', 'holder must be a non-empty trainer id');
  const nowIso = now.toISOString();
  const token = (doc.fence ?? 0) + 1;
  return {
    ...doc,
    status: 'running',
    fence: token,
    lease: { holder, token, claimedAt: nowIso, expiresAt: new Date(now.getTime() + leaseMs).toISOString() },
    updatedAt: nowIso,
  };
}

/** Throws `fenced` unless `fence` (when given) is the token of the run's current lease. */
export function checkFence(doc: RunRecord, fence: number | undefined): void {
  if (fence === undefined || doc.lease?.token === fence) return;
  const now = doc.lease ? `trainer ${doc.lease.holder} holds it with token ${doc.lease.token}` : `it is ${doc.status} with no lease`;
  throw new StoreError('fenced', `run ${doc.id}: lease token ${fence} is stale (${now}); the writer must stop working on this run`);
}

export function applyRenewal(doc: RunRecord, token: number, leaseMs: number, now: Date): RunRecord {
  requireLeaseMs(leaseMs);
  checkFence(doc, token);
  return { ...doc, lease: { ...doc.lease!, expiresAt: new Date(now.getTime() + leaseMs).toISOString() }, updatedAt: now.toISOString() };
}

/** The holder's last write: applies `patch` (the final status) and drops the lease. */
export function applyRelease(doc: RunRecord, token: number, patch: RunPatch, nowIso: string): RunRecord {
  checkFence(doc, token);
  if (patch.status === undefined || patch.status === 'running') throw new StoreError('invalid_argument', 'releaseRun needs the final status (not running) in its patch');
  const next = applyRunPatch(doc, { ...patch, cancelRequested: undefined }, nowIso);
  delete next.lease;
  return next;
}

/**
 * Puts a run into the queue: a new one (`created`), or one that stopped (failed, cancelled,
 * interrupted, or running with no live lease). Already queued: unchanged. Completed, or running
 * under a live lease: `conflict`.
 */
export function applyEnqueue(doc: RunRecord, now: Date): RunRecord {
  const nowIso = now.toISOString();
  if (doc.status === 'queued') return doc;
  if (doc.status === 'completed') throw conflict(`run ${doc.id} has already completed; see \`flowprune runs show ${doc.id}\``);
  if (doc.status === 'running' && doc.lease && doc.lease.expiresAt > nowIso)
    throw conflict(`run ${doc.id} is running on trainer ${doc.lease.holder} (lease until ${doc.lease.expiresAt}); another trainer takes it over if that one stops renewing`);
  const next: RunRecord = { ...doc, status: 'queued', queuedAt: nowIso, updatedAt: nowIso };
  delete next.lease;
  delete next.error;
  delete next.cancelRequested;
  return next;
}

export type CancelOutcome = 'cancelled' | 'cancelling';

/** A queued run is cancelled at once; a running one is flagged for its holder; an ended one is a `conflict`. */
export function applyCancelRequest(doc: RunRecord, nowIso: string): { doc: RunRecord; outcome: CancelOutcome } {
  if (doc.status === 'queued' || doc.status === 'created') {
    return { doc: { ...doc, status: 'cancelled', error: { message: 'cancelled' }, updatedAt: nowIso }, outcome: 'cancelled' };
  }
  if (doc.status === 'running') return { doc: { ...doc, cancelRequested: true, updatedAt: nowIso }, outcome: 'cancelling' };
  throw conflict(`run ${doc.id} has already ended (${doc.status})`);
}
