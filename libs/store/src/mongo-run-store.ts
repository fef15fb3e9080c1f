// The team store: MongoDB through the official driver. Runs are documents in `runs` (the same
// document FileRunStore writes, `_id` = run id), events in `events`, checkpoints in GridFS
// (`checkpoints` bucket). Every write uses majority write concern, so an acknowledged epoch stat
// survives a primary failover.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { redactUri } from '@flowprune/common';
import { GridFSBucket, MongoClient, ObjectId, type Collection, type Db, type Filter, type WriteConcernSettings } from 'mongodb';
import { runNotFound, StoreError } from './errors.js';
import { generateRunId, validateCheckpointName, validateRunId } from './ids.js';
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
} from './types.js';

export interface MongoRunStoreOptions {
  /** mongodb:// or mongodb+srv:// connection string. */
  uri: string;
  /** Database name (default: the one in the URI, else "flowprune"). */
  dbName?: string;
  now?: () => Date;
}

type RunDoc = RunRecord & { _id: string };
type EventDoc = RunEvent & { _id: ObjectId; seq: number };
const MAJORITY: WriteConcernSettings = { w: 'majority' };

const strip = <T extends { _id?: unknown }>(doc: T): Omit<T, '_id'> => {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
};

export class MongoRunStore implements RunStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly runs: Collection<RunDoc>;
  private readonly events: Collection<EventDoc>;
  private readonly counters: Collection<{ _id: string; seq: number }>;
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
    this.counters = this.db.collection<{ _id: string; seq: number }>('event_counters', { writeConcern: MAJORITY });
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
    return doc ? (strip(doc) as RunRecord) : null;
  }

  async updateRun(id: string, patch: RunPatch): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    // The same validation and merge as the file store, then one atomic $set/$unset.
    const current = await this.getRun(id);
    if (!current) throw runNotFound(id);
    const next = applyRunPatch(current, patch, this.now().toISOString());
    const set: Record<string, unknown> = { updatedAt: next.updatedAt };
    const unset: Record<string, ''> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) unset[k] = '';
      else set[k] = v;
    }
    const res = await this.runs.findOneAndUpdate(
      { _id: id },
      Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set },
      { returnDocument: 'after' },
    );
    if (!res) throw runNotFound(id);
    return strip(res) as RunRecord;
  }

  async appendEpochStat(id: string, stat: EpochStat): Promise<RunRecord> {
    validateEpochStat(stat);
    return this.push(id, { stats: stat });
  }

  async appendRound(id: string, round: RoundRecord): Promise<RunRecord> {
    validateRound(round);
    return this.push(id, { rounds: round });
  }

  /** $push is atomic on the server: concurrent appenders never lose each other's entries. */
  private async push(id: string, item: { stats: EpochStat } | { rounds: RoundRecord }): Promise<RunRecord> {
    validateRunId(id);
    await this.init();
    const res = await this.runs.findOneAndUpdate(
      { _id: id },
      { $push: item as never, $set: { updatedAt: this.now().toISOString() } },
      { returnDocument: 'after' },
    );
    if (!res) throw runNotFound(id);
    return strip(res) as RunRecord;
  }

  async appendEvent(id: string, event: RunEventInput): Promise<RunEvent> {
    validateRunId(id);
    await this.init();
    if (!(await this.runs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw runNotFound(id);
    // A per-run counter (kept outside the run document, which stays identical to the file store's)
    // orders events across writers.
    const counter = await this.counters.findOneAndUpdate({ _id: id }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    const record = buildRunEvent(id, event, this.now().toISOString());
    await this.events.insertOne({ ...record, _id: new ObjectId(), seq: counter!.seq });
    return record;
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
    return docs.map((d) => strip(d) as RunRecord);
  }

  async putCheckpoint(id: string, name: string, bytes: Uint8Array, meta?: Record<string, unknown>): Promise<CheckpointInfo> {
    validateCheckpointName(name);
    validateCheckpointMeta(meta);
    if (!(bytes instanceof Uint8Array)) throw new StoreError('invalid_argument', 'checkpoint bytes must be a Uint8Array');
    validateRunId(id);
    await this.init();
    if (!(await this.runs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw runNotFound(id);
    const info: CheckpointInfo = { name, size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), createdAt: this.now().toISOString() };
    if (meta !== undefined) info.meta = meta;
    // Upload the new file first, then delete older versions: a reader always finds a complete one.
    const old = await this.bucket.find({ 'metadata.runId': id, filename: name }).toArray();
    await new Promise<void>((resolve, reject) => {
      const up = this.bucket.openUploadStream(name, { metadata: { runId: id, info } });
      up.once('finish', () => resolve());
      up.once('error', reject);
      up.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    for (const f of old) await this.bucket.delete(f._id);
    return info;
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
