// The team store: MongoDB through the official driver. Runs are documents in `runs` (the same
// document FileRunStore writes, `_id` = run id), events in `events`, checkpoints in GridFS
// (`checkpoints` bucket). Every write uses majority write concern, so an acknowledged epoch stat
// survives a primary failover. Queue steps (claim, renew, release, enqueue, cancel) are single
// findOneAndUpdate calls whose filter states the precondition; a fenced write puts the lease token
// in its filter, so a stale holder's update matches nothing and is refused.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { redactUri } from '@flowprune/common';
import { GridFSBucket, MongoClient, ObjectId, type Collection, type Db, type Filter, type WriteConcernSettings } from 'mongodb';
import { runNotFound, StoreError } from './errors.js';
import { generateRunId, validateCheckpointName, validateRunId } from './ids.js';
import { ENQUEUEABLE_STATUSES, applyCancelRequest, applyEnqueue, applyRelease, checkFence, type CancelOutcome } from './queue.js';
import { applyRunPatch, buildRunEvent, buildRunRecord, validateCheckpointMeta, validateEpochStat, validateRound } from './record.js';
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

export interface MongoRunStoreOptions {
  /** mongodb:// or mongodb+srv:// connection string. */
  uri: string;
  /** Database name (default: the one in the URI, else "flowprune"). */
  dbName?: string;
  now?: () => Date;
}

/** `_eventSeq` orders the run's events; it is bumped by the same (fenced) update that admits an event. */
type RunDoc = RunRecord & { _id: string; _eventSeq?: number };
type EventDoc = RunEvent & { _id: ObjectId; seq: number };
const MAJORITY: WriteConcernSettings = { w: 'majority' };

const strip = <T extends { _id?: unknown }>(doc: T): Omit<T, '_id'> => {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
};
const toRecord = (doc: RunDoc): RunRecord => {
  const { _id, _eventSeq, ...rest } = doc;
  void _id;
  void _eventSeq;
  return rest;
};

/** The filter of a write to run `id`: with a fence, only while that token is the run's lease. */
const fenced = (id: string, fence: number | undefined): Filter<RunDoc> => (fence === undefined ? { _id: id } : { _id: id, 'lease.token': fence });

export class MongoRunStore implements RunStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly runs: Collection<RunDoc>;
  private readonly events: Collection<EventDoc>;
  private readonly bucket: GridFSBucket;
  private readonly now: () => Date;
  private ready?: Promise<void>;
  /** The URI without its password: the only form of it that goes into messages. */
  readonly location: string;

  constructor(options: MongoRunStoreOptions) {
    this.location = redactUri(options.uri);
    try {
      this.client = new MongoClient(options.uri, { writeConcern: MAJORITY, readConcern: { level: 'majority' } });
    } catch (e) {
      throw this.named(e);
    }
    this.db = this.client.db(options.dbName);
    this.runs = this.db.collection<RunDoc>('runs', { writeConcern: MAJORITY });
    this.events = this.db.collection<EventDoc>('events', { writeConcern: MAJORITY });
    this.bucket = new GridFSBucket(this.db, { bucketName: 'checkpoints', writeConcern: MAJORITY });
    this.now = options.now ?? (() => new Date());
  }

  /** Connects once and creates the indexes the queries use. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await this.client.connect().catch((e: unknown) => {
        throw this.named(e);
      });
      await this.runs.createIndexes([
        { key: { createdAt: 1, _id: 1 } },
        { key: { model: 1, measure: 1, pruneRatio: 1, seed: 1 } },
        { key: { status: 1 } },
        { key: { status: 1, queuedAt: 1, _id: 1 } },
        { key: { dataset: 1 } },
      ]);
      await this.events.createIndex({ runId: 1, seq: 1 });
      await this.db.collection('checkpoints.files').createIndex({ 'metadata.runId': 1, filename: 1 });
    })();
    return this.ready;
  }

  /** An error that says which store (password masked); driver messages carry no credentials. */
  private named(e: unknown): Error {
    const err = e as Error;
    return new Error(`run store ${this.location}: ${redactUri(err?.message ?? String(e))}`, { cause: e });
  }

  /** Logging the store (console.log, util.inspect, JSON) shows the masked URI, never the client's credentials. */
  [inspect.custom](): string {
    return `MongoRunStore(${this.location})`;
  }

  toJSON(): { store: string } {
    return { store: this.location };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Drops the whole database (tests). */
  async dropDatabase(): Promise<void> {
    await this.init();
    await this.db.dropDatabase();
  }

  async createRun(doc: RunRecordInput): Promise<RunRecord> {
    await this.init();
    for (let attempt = 0; attempt < 10; attempt++) {
      const now = this.now();
      const record = buildRunRecord(doc, generateRunId(now), now.toISOString());
      try {
        await this.runs.insertOne({ _id: record.id, ...record });
        return record;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) continue; // duplicate id: draw again
        throw err;
      }
    }
    throw new StoreError('corrupt', 'could not allocate a unique run id after 10 attempts');
  }

  async getRun(id: string): Promise<RunRecord | null> {
    validateRunId(id);
    await this.init();
    const doc = await this.runs.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  async updateRun(id: string, patch: RunPatch, options: WriteOptions = {}): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    // The same validation and merge as the file store, then one atomic $set/$unset.
    const current = await this.getRun(id);
    if (!current) throw runNotFound(id);
    checkFence(current, options.fence);
    const next = applyRunPatch(current, patch, this.now().toISOString());
    const set: Record<string, unknown> = { updatedAt: next.updatedAt };
    const unset: Record<string, ''> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) unset[k] = '';
      else set[k] = v;
    }
    const res = await this.runs.findOneAndUpdate(
      fenced(id, options.fence),
      Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set },
      { returnDocument: 'after' },
    );
    if (!res) throw await this.whyNoMatch(id, options.fence);
    return toRecord(res);
  }

  async appendEpochStat(id: string, stat: EpochStat, options: WriteOptions = {}): Promise<RunRecord> {
    validateEpochStat(stat);
    return this.push(id, { stats: stat }, options.fence);
  }

  async appendRound(id: string, round: RoundRecord, options: WriteOptions = {}): Promise<RunRecord> {
    validateRound(round);
    return this.push(id, { rounds: round }, options.fence);
  }

  /** $push is atomic on the server: concurrent appenders never lose each other's entries. */
  private async push(id: string, item: { stats: EpochStat } | { rounds: RoundRecord }, fence: number | undefined): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    const res = await this.runs.findOneAndUpdate(
      fenced(id, fence),
      { $push: item as never, $set: { updatedAt: this.now().toISOString() } },
      { returnDocument: 'after' },
    );
    if (!res) throw await this.whyNoMatch(id, fence);
    return toRecord(res);
  }

  async appendEvent(id: string, event: RunEventInput, options: WriteOptions = {}): Promise<RunEvent> {
    validateRunId(id);
    await this.init();
    const record = buildRunEvent(id, options.fence === undefined ? event : { ...event, fence: options.fence }, this.now().toISOString());
    // The event's sequence number comes from the run document, in the same update that checks the
    // fence: a stale holder gets no number and writes nothing.
    const run = await this.runs.findOneAndUpdate(fenced(id, options.fence), { $inc: { _eventSeq: 1 } }, { returnDocument: 'after', projection: { _eventSeq: 1 } });
    if (!run) throw await this.whyNoMatch(id, options.fence);
    await this.events.insertOne({ ...record, _id: new ObjectId(), seq: run._eventSeq ?? 1 });
    return record;
  }

  /** Why a conditional update on run `id` matched nothing: no such run, or a stale fence. */
  private async whyNoMatch(id: string, fence: number | undefined): Promise<StoreError> {
    const doc = await this.runs.findOne({ _id: id });
    if (!doc) return runNotFound(id);
    try {
      checkFence(toRecord(doc), fence);
    } catch (e) {
      return e as StoreError;
    }
    return new StoreError('conflict', `run ${id} changed during the update; retry`);
  }

  async readEvents(id: string): Promise<RunEvent[]> {
    validateRunId(id);
    await this.init();
    if (!(await this.runs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw runNotFound(id);
    const docs = await this.events.find({ runId: id }).sort({ seq: 1 }).toArray();
    return docs.map((d) => {
      const { seq, ...rest } = strip(d);
      void seq;
      return rest as RunEvent;
    });
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    await this.init();
    const q: Filter<RunDoc> = {};
    for (const k of ['model', 'dataset', 'measure', 'pruneRatio', 'seed', 'backend'] as const) if (filter[k] !== undefined) (q as Record<string, unknown>)[k] = filter[k];
    if (filter.status !== undefined) q.status = { $in: Array.isArray(filter.status) ? filter.status : [filter.status] };
    const docs = await this.runs.find(q).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(toRecord);
  }

  async putCheckpoint(id: string, name: string, bytes: Uint8Array, meta?: Record<string, unknown>, options: WriteOptions = {}): Promise<CheckpointInfo> {
    validateCheckpointName(name);
    validateCheckpointMeta(meta);
    if (!(bytes instanceof Uint8Array)) throw new StoreError('invalid_argument', 'checkpoint bytes must be a Uint8Array');
    validateRunId(id);
    await this.init();
    await this.requireFence(id, options.fence);
    const info: CheckpointInfo = { name, size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), createdAt: this.now().toISOString() };
    if (meta !== undefined) info.meta = meta;
    // Upload the new file first, then delete older versions: a reader always finds a complete one.
    const old = await this.bucket.find({ 'metadata.runId': id, filename: name }).toArray();
    const up = this.bucket.openUploadStream(name, { metadata: { runId: id, info } });
    await new Promise<void>((resolve, reject) => {
      up.once('finish', () => resolve());
      up.once('error', reject);
      up.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    // GridFS cannot put the token in an upload's filter: check it again once the file is there, and
    // take the file back if the run was claimed meanwhile (the new holder's uploads stay newest).
    try {
      await this.requireFence(id, options.fence);
    } catch (e) {
      await this.bucket.delete(up.id).catch(() => undefined);
      throw e;
    }
    for (const f of old) await this.bucket.delete(f._id);
    return info;
  }

  /** Throws not_found, or `fenced` unless `fence` (when given) is the run's current lease token. */
  private async requireFence(id: string, fence: number | undefined): Promise<void> {
    const doc = await this.runs.findOne({ _id: id }, { projection: { _id: 1, status: 1, lease: 1 } });
    if (!doc) throw runNotFound(id);
    checkFence({ ...(doc as RunDoc), id }, fence);
  }

  async enqueueRun(id: string): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    const now = this.now();
    const nowIso = now.toISOString();
    // Enqueueable: a stopped status, or running with no live lease. Otherwise applyEnqueue explains.
    const res = await this.runs.findOneAndUpdate(
      {
        _id: id,
        $or: [
          { status: { $in: [...ENQUEUEABLE_STATUSES] } },
          { status: 'running', $or: [{ lease: { $exists: false } }, { 'lease.expiresAt': { $lte: nowIso } }] },
        ],
      },
      { $set: { status: 'queued', queuedAt: nowIso, updatedAt: nowIso }, $unset: { lease: '', error: '', cancelRequested: '' } },
      { returnDocument: 'after' },
    );
    if (res) return toRecord(res);
    const current = await this.getRun(id);
    if (!current) throw runNotFound(id);
    return applyEnqueue(current, now); // queued: unchanged; otherwise throws the conflict
  }

  /**
   * One findOneAndUpdate picks the oldest claimable run and takes it: queued, or running under an
   * expired lease. The token is computed on the server (fence + 1) by a pipeline update, so two
   * trainers can never get the same one.
   */
  async claimRun(holder: string, leaseMs: number): Promise<RunRecord | null> {
    if (typeof holder !== 'string' || holder.length === 0) throw new StoreError('invalid_argument', 'holder must be a non-empty trainer id');
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new StoreError('invalid_argument', `lease duration must be a positive number of milliseconds, got ${leaseMs}`);
    await this.init();
    const now = this.now();
    const nowIso = now.toISOString();
    const expiresAt = new Date(now.getTime() + leaseMs).toISOString();
    const res = await this.runs.findOneAndUpdate(
      { $or: [{ status: 'queued' }, { status: 'running', 'lease.expiresAt': { $lte: nowIso } }] },
      [
        { $set: { status: 'running', fence: { $add: [{ $ifNull: ['$fence', 0] }, 1] }, updatedAt: nowIso } },
        { $set: { lease: { holder: { $literal: holder }, token: '$fence', claimedAt: nowIso, expiresAt } } },
      ],
      { sort: { queuedAt: 1, _id: 1 }, returnDocument: 'after' },
    );
    return res ? toRecord(res) : null;
  }

  async renewLease(id: string, token: number, leaseMs: number): Promise<RunRecord> {
    validateRunId(id);
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new StoreError('invalid_argument', `lease duration must be a positive number of milliseconds, got ${leaseMs}`);
    await this.init();
    const now = this.now();
    const res = await this.runs.findOneAndUpdate(
      fenced(id, token),
      { $set: { 'lease.expiresAt': new Date(now.getTime() + leaseMs).toISOString(), updatedAt: now.toISOString() } },
      { returnDocument: 'after' },
    );
    if (!res) throw await this.whyNoMatch(id, token);
    return toRecord(res);
  }

  async releaseRun(id: string, token: number, patch: RunPatch): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    const current = await this.getRun(id);
    if (!current) throw runNotFound(id);
    const next = applyRelease(current, token, patch, this.now().toISOString()); // validates, and checks the fence
    const set: Record<string, unknown> = { updatedAt: next.updatedAt };
    const unset: Record<string, ''> = { lease: '', cancelRequested: '' };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) unset[k] = '';
      else set[k] = v;
    }
    const res = await this.runs.findOneAndUpdate(fenced(id, token), { $set: set, $unset: unset }, { returnDocument: 'after' });
    if (!res) throw await this.whyNoMatch(id, token);
    return toRecord(res);
  }

  async requestCancel(id: string): Promise<{ run: RunRecord; outcome: CancelOutcome }> {
    validateRunId(id);
    await this.init();
    const nowIso = this.now().toISOString();
    const queued = await this.runs.findOneAndUpdate(
      { _id: id, status: { $in: ['queued', 'created'] } },
      { $set: { status: 'cancelled', error: { message: 'cancelled' }, updatedAt: nowIso } },
      { returnDocument: 'after' },
    );
    if (queued) return { run: toRecord(queued), outcome: 'cancelled' };
    const running = await this.runs.findOneAndUpdate({ _id: id, status: 'running' }, { $set: { cancelRequested: true, updatedAt: nowIso } }, { returnDocument: 'after' });
    if (running) return { run: toRecord(running), outcome: 'cancelling' };
    const current = await this.getRun(id);
    if (!current) throw runNotFound(id);
    return { run: current, outcome: applyCancelRequest(current, nowIso).outcome }; // ended: throws the conflict
  }

  async getCheckpoint(id: string, name: string): Promise<Checkpoint | null> {
    validateCheckpointName(name);
    validateRunId(id);
    await this.init();
    if (!(await this.runs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw runNotFound(id);
    const [file] = await this.bucket.find({ 'metadata.runId': id, filename: name }).sort({ uploadDate: -1 }).limit(1).toArray();
    if (!file) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of this.bucket.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const info = (file.metadata as { info: CheckpointInfo }).info;
    if (createHash('sha256').update(bytes).digest('hex') !== info.sha256)
      throw new StoreError('corrupt', `checkpoint ${name} of run ${id}: bytes do not match the recorded sha256`);
    return { info, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }

  async listCheckpoints(id: string): Promise<CheckpointInfo[]> {
    validateRunId(id);
    await this.init();
    if (!(await this.runs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw runNotFound(id);
    const files = await this.bucket.find({ 'metadata.runId': id }).sort({ filename: 1, uploadDate: -1 }).toArray();
    const latest = new Map<string, CheckpointInfo>();
    for (const f of files) if (!latest.has(f.filename)) latest.set(f.filename, (f.metadata as { info: CheckpointInfo }).info);
    return [...latest.values()];
  }
}

/** Factory for the contract suite's child processes. */
export function createMongoRunStore(options: MongoRunStoreOptions): MongoRunStore {
  return new MongoRunStore(options);
}
