// RunStore on the local file system:
//   <root>/<id>/run.json                      the run document (replaced atomically)
//   <root>/<id>/events.jsonl                  append-only event log
//   <root>/<id>/checkpoints/<name>.safetensors checkpoint bytes, plus <name>.json with its info
// Every mutation holds <root>/<id>/.lock, so concurrent processes on one machine never lose
// each other's read-modify-write updates; readers need no lock because files are only ever
// replaced by rename.

import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { runNotFound, StoreError } from './errors.js';
import { withFileLock, type LockOptions } from './file-lock.js';
import { generateRunId, validateCheckpointName, validateRunId } from './ids.js';
import {
  applyRunPatch,
  buildRunEvent,
  buildRunRecord,
  compareRuns,
  matchesRunFilter,
  validateCheckpointMeta,
  validateEpochStat,
  validateRound,
} from './record.js';
import { applyCancelRequest, applyClaim, applyEnqueue, applyRelease, applyRenewal, checkFence, compareQueued, isClaimable, type CancelOutcome } from './queue.js';
import type { RunStore } from './run-store.js';
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

export interface FileRunStoreOptions {
  /** Directory holding one sub-directory per run; default `$FLOWPRUNE_RUNS_DIR` or `./runs`. */
  root?: string;
  lock?: LockOptions;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

const RUN_FILE = 'run.json';
const EVENTS_FILE = 'events.jsonl';
const LOCK_FILE = '.lock';
const CHECKPOINT_DIR = 'checkpoints';
const CHECKPOINT_EXT = '.safetensors';

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class FileRunStore implements RunStore {
  readonly root: string;
  private readonly lockOptions: LockOptions;
  private readonly now: () => Date;

  constructor(options: FileRunStoreOptions = {}) {
    this.root = resolve(options.root ?? process.env.FLOWPRUNE_RUNS_DIR ?? 'runs');
    this.lockOptions = options.lock ?? {};
    this.now = options.now ?? (() => new Date());
  }

  /** Directory of one run (validates the id, so the result is always inside the root). */
  runDir(id: string): string {
    validateRunId(id);
    return join(this.root, id);
  }

  async createRun(doc: RunRecordInput): Promise<RunRecord> {
    await mkdir(this.root, { recursive: true });
    // The id embeds a random part; a clash shows up as EEXIST on mkdir and we draw again.
    for (let attempt = 0; attempt < 10; attempt++) {
      const now = this.now();
      const id = generateRunId(now);
      const record = buildRunRecord(doc, id, now.toISOString());
      try {
        await mkdir(join(this.root, id));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      await this.writeRecord(record);
      return record;
    }
    throw new StoreError('corrupt', `could not allocate a unique run id under ${this.root} after 10 attempts`, this.root);
  }

  async getRun(id: string): Promise<RunRecord | null> {
    return this.readRecord(this.runDir(id));
  }

  async updateRun(id: string, patch: RunPatch, options: WriteOptions = {}): Promise<RunRecord> {
    return this.mutate(id, (doc, nowIso) => applyRunPatch(doc, patch, nowIso), options.fence);
  }

  async appendEpochStat(id: string, stat: EpochStat, options: WriteOptions = {}): Promise<RunRecord> {
    validateEpochStat(stat);
    return this.mutate(id, (doc, nowIso) => ({ ...doc, stats: [...doc.stats, stat], updatedAt: nowIso }), options.fence);
  }

  async appendRound(id: string, round: RoundRecord, options: WriteOptions = {}): Promise<RunRecord> {
    validateRound(round);
    return this.mutate(id, (doc, nowIso) => ({ ...doc, rounds: [...doc.rounds, round], updatedAt: nowIso }), options.fence);
  }

  async appendEvent(id: string, event: RunEventInput, options: WriteOptions = {}): Promise<RunEvent> {
    const dir = await this.requireRunDir(id);
    const record = buildRunEvent(id, options.fence === undefined ? event : { ...event, fence: options.fence }, this.now().toISOString());
    // One appendFile call per line under the run lock: lines from several writers never interleave.
    await withFileLock(
      join(dir, LOCK_FILE),
      async () => {
        await this.checkFenceIn(dir, id, options.fence);
        await appendFile(join(dir, EVENTS_FILE), JSON.stringify(record) + '\n');
      },
      this.lockOptions,
    );
    return record;
  }

  async readEvents(id: string): Promise<RunEvent[]> {
    const dir = await this.requireRunDir(id);
    let text: string;
    try {
      text = await readFile(join(dir, EVENTS_FILE), 'utf8');
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const lines = text.split('\n');
    const events: RunEvent[] = [];
    lines.forEach((line, i) => {
      if (line.length === 0) return;
      try {
        events.push(JSON.parse(line) as RunEvent);
      } catch {
        // A torn last line can only come from a crash mid-append; anything earlier is corruption.
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.length > 0)) {
          throw new StoreError('corrupt', `${join(dir, EVENTS_FILE)}: line ${i + 1} is not JSON`, join(dir, EVENTS_FILE));
        }
      }
    });
    return events;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const runs: RunRecord[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        validateRunId(name);
      } catch {
        continue; // not a run directory
      }
      // A directory without run.json is a run being created right now; skip it.
      const doc = await this.readRecord(join(this.root, name));
      if (doc && matchesRunFilter(doc, filter)) runs.push(doc);
    }
    return runs.sort(compareRuns);
  }

  async putCheckpoint(id: string, name: string, bytes: Uint8Array, meta?: Record<string, unknown>, options: WriteOptions = {}): Promise<CheckpointInfo> {
    validateCheckpointName(name);
    validateCheckpointMeta(meta);
    if (!(bytes instanceof Uint8Array)) throw new StoreError('invalid_argument', 'checkpoint bytes must be a Uint8Array');
    const dir = await this.requireRunDir(id);
    const info: CheckpointInfo = {
      name,
      size: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: this.now().toISOString(),
    };
    if (meta !== undefined) info.meta = meta;
    const cdir = join(dir, CHECKPOINT_DIR);
    await withFileLock(
      join(dir, LOCK_FILE),
      async () => {
        await this.checkFenceIn(dir, id, options.fence);
        await mkdir(cdir, { recursive: true });
        // Bytes first, then the info: an info file always describes bytes that are fully written.
        await writeFileAtomic(join(cdir, name + CHECKPOINT_EXT), bytes);
        await writeFileAtomic(join(cdir, name + '.json'), JSON.stringify(info, null, 2) + '\n');
      },
      this.lockOptions,
    );
    return info;
  }

  async getCheckpoint(id: string, name: string): Promise<Checkpoint | null> {
    validateCheckpointName(name);
    const dir = await this.requireRunDir(id);
    const cdir = join(dir, CHECKPOINT_DIR);
    // Under the lock so the bytes and their info come from the same put.
    return withFileLock(
      join(dir, LOCK_FILE),
      async () => {
        let infoText: string;
        let bytes: Buffer;
        try {
          infoText = await readFile(join(cdir, name + '.json'), 'utf8');
          bytes = await readFile(join(cdir, name + CHECKPOINT_EXT));
        } catch (err) {
          if (isMissing(err)) return null;
          throw err;
        }
        const info = JSON.parse(infoText) as CheckpointInfo;
        const sha = createHash('sha256').update(bytes).digest('hex');
        if (sha !== info.sha256) {
          throw new StoreError('corrupt', `checkpoint ${name} of run ${id}: bytes do not match the recorded sha256`, join(cdir, name + CHECKPOINT_EXT));
        }
        return { info, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
      },
      this.lockOptions,
    );
  }

  async listCheckpoints(id: string): Promise<CheckpointInfo[]> {
    const dir = await this.requireRunDir(id);
    const cdir = join(dir, CHECKPOINT_DIR);
    let names: string[];
    try {
      names = await readdir(cdir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const infos: CheckpointInfo[] = [];
    for (const f of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
      try {
        infos.push(JSON.parse(await readFile(join(cdir, f), 'utf8')) as CheckpointInfo);
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
    return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async enqueueRun(id: string): Promise<RunRecord> {
    return this.mutate(id, (doc) => applyEnqueue(doc, this.now()));
  }

  /**
   * Scans the runs for claimable ones (oldest first) and takes the first that is still claimable
   * under its lock: two trainers racing for one run both re-read it there, and only one wins.
   */
  async claimRun(holder: string, leaseMs: number): Promise<RunRecord | null> {
    const candidates = (await this.listRuns({ status: ['queued', 'running'] })).filter((r) => isClaimable(r, this.now().toISOString())).sort(compareQueued);
    for (const candidate of candidates) {
      const claimed = await this.mutateIf(candidate.id, (doc) => {
        const now = this.now();
        return isClaimable(doc, now.toISOString()) ? applyClaim(doc, holder, leaseMs, now) : null;
      }).catch((e: unknown) => {
        if (e instanceof StoreError && e.code === 'not_found') return null;
        throw e;
      });
      if (claimed) return claimed;
    }
    return null;
  }

  async renewLease(id: string, token: number, leaseMs: number): Promise<RunRecord> {
    return this.mutate(id, (doc) => applyRenewal(doc, token, leaseMs, this.now()));
  }

  async releaseRun(id: string, token: number, patch: RunPatch): Promise<RunRecord> {
    return this.mutate(id, (doc, nowIso) => applyRelease(doc, token, patch, nowIso));
  }

  async requestCancel(id: string): Promise<{ run: RunRecord; outcome: CancelOutcome }> {
    let outcome: CancelOutcome = 'cancelling';
    const run = await this.mutate(id, (doc, nowIso) => {
      const r = applyCancelRequest(doc, nowIso);
      outcome = r.outcome;
      return r.doc;
    });
    return { run, outcome };
  }

  /** Refuses a fenced write (under the run's lock) whose token is no longer the run's lease. */
  private async checkFenceIn(dir: string, id: string, fence: number | undefined): Promise<void> {
    if (fence === undefined) return;
    const doc = await this.readRecord(dir);
    if (!doc) throw runNotFound(id);
    checkFence(doc, fence);
  }

  /** Read-modify-write of run.json under the run's lock (refused first if `fence` is stale). */
  private async mutate(id: string, change: (doc: RunRecord, nowIso: string) => RunRecord, fence?: number): Promise<RunRecord> {
    const next = await this.mutateIf(id, (doc, nowIso) => {
      checkFence(doc, fence);
      return change(doc, nowIso);
    });
    return next!;
  }

  /** Like mutate; a change that returns null leaves the run as it is and yields null. */
  private async mutateIf(id: string, change: (doc: RunRecord, nowIso: string) => RunRecord | null): Promise<RunRecord | null> {
    const dir = await this.requireRunDir(id);
    return withFileLock(
      join(dir, LOCK_FILE),
      async () => {
        const doc = await this.readRecord(dir);
        if (!doc) throw runNotFound(id);
        const next = change(doc, this.now().toISOString());
        if (next === null) return null;
        if (next !== doc) await this.writeRecord(next);
        return next;
      },
      this.lockOptions,
    );
  }

  private async requireRunDir(id: string): Promise<string> {
    const dir = this.runDir(id);
    const info = await stat(join(dir, RUN_FILE)).catch(() => null);
    if (!info) throw runNotFound(id);
    return dir;
  }

  private async readRecord(dir: string): Promise<RunRecord | null> {
    const path = join(dir, RUN_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      return JSON.parse(text) as RunRecord;
    } catch {
      throw new StoreError('corrupt', `${path} is not valid JSON (${text.length} bytes); restore it from a backup or delete the run`, path);
    }
  }

  private async writeRecord(doc: RunRecord): Promise<void> {
    await writeFileAtomic(join(this.root, doc.id, RUN_FILE), JSON.stringify(doc, null, 2) + '\n');
  }
}

/** Factory form (used by the contract suite to open the same store in a child process). */
export function createFileRunStore(options: FileRunStoreOptions = {}): FileRunStore {
  return new FileRunStore(options);
}
