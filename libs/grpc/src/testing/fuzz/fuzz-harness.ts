// Fuzzes a running service method by method: random structurally valid requests (built from the
// generated types, encoded by the generated encoders) and malformed bytes, sent raw. Every reply
// must be a proper status: OK, or an error code a caller can act on with a message that says why.
// UNKNOWN, INTERNAL (a server bug), DEADLINE_EXCEEDED (a hang) and UNAVAILABLE (a dead server) are
// problems, and so is an OK reply that does not decode.
import { status } from '@grpc/grpc-js';
import type { FuzzValues } from './fuzz-values.js';
import { malformedPayload, MALFORMED_KINDS, type RawClient, type RawReply } from './fuzz-wire.js';

/** One method, typed by its generated request type. */
export interface FuzzMethodSpec<Req> {
  /** gRPC path, e.g. "/flowprune.v1.DataLoaderService/StreamBatches" (the generated definition's `path`). */
  path: string;
  /** True for server-streaming methods. */
  streaming: boolean;
  /** A random request: fields of every kind, valid or not. */
  generate(v: FuzzValues): Req;
  /** The generated encoder, e.g. (r) => StreamBatchesRequest.encode(r).finish(). */
  encode(req: Req): Uint8Array;
  /** A request that must succeed; malformed payloads are derived from its bytes. */
  valid: Req;
  /** The generated response decoder: every OK reply must decode. */
  decodeReply(bytes: Uint8Array): unknown;
}

/** A method with its request type erased (so methods of one service fit in one list). */
export interface FuzzMethod {
  path: string;
  streaming: boolean;
  randomRequest(v: FuzzValues): Buffer;
  validRequest: Buffer;
  decodeReply(bytes: Uint8Array): unknown;
}

export function fuzzMethod<Req>(spec: FuzzMethodSpec<Req>): FuzzMethod {
  return {
    path: spec.path,
    streaming: spec.streaming,
    randomRequest: (v) => Buffer.from(spec.encode(spec.generate(v))),
    validRequest: Buffer.from(spec.encode(spec.valid)),
    decodeReply: spec.decodeReply,
  };
}

export interface FuzzProblem {
  method: string;
  /** "structured" or the malformed kind. */
  kind: string;
  /** Index of the request in its method's sequence (with the seed, enough to replay it). */
  index: number;
  code: string;
  details: string;
  /** First bytes of the request, hex. */
  request: string;
}

export interface FuzzMethodCounts {
  structured: number;
  malformed: number;
  /** Replies by status name. */
  codes: Record<string, number>;
}

export interface FuzzReport {
  requests: number;
  byMethod: Record<string, FuzzMethodCounts>;
  problems: FuzzProblem[];
}

const BAD_CODES = new Set<status>([status.UNKNOWN, status.INTERNAL, status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.DATA_LOSS]);

/** Why a reply is not a proper status, or undefined when it is. */
export function replyProblem(reply: RawReply, decode: (b: Uint8Array) => unknown): string | undefined {
  if (BAD_CODES.has(reply.code)) return `status ${status[reply.code]}`;
  if (reply.code !== status.OK && !reply.details.trim()) return `status ${status[reply.code]} with an empty message`;
  for (const m of reply.messages) {
    try {
      decode(m);
    } catch (e) {
      return `a reply message does not decode (${(e as Error).message})`;
    }
  }
  return undefined;
}

export interface FuzzOptions {
  client: RawClient;
  methods: FuzzMethod[];
  values: FuzzValues;
  /** Random structurally valid requests per method. */
  structured: number;
  /** Malformed payloads per method (spread over every kind). */
  malformed: number;
  /** Requests in flight at once. */
  concurrency?: number;
  timeoutMs?: number;
}

interface Job {
  method: FuzzMethod;
  kind: string;
  index: number;
  bytes: Buffer;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  // Payloads are drawn up front, in a fixed order, so a seed replays the same requests whatever the timing.
  const jobs: Job[] = [];
  for (const method of o.methods) {
    for (let i = 0; i < o.structured; i++) jobs.push({ method, kind: 'structured', index: i, bytes: method.randomRequest(o.values) });
    for (let i = 0; i < o.malformed; i++) {
      const kind = MALFORMED_KINDS[i % MALFORMED_KINDS.length];
      jobs.push({ method, kind, index: i, bytes: malformedPayload(kind, method.validRequest, o.values) });
    }
  }
  const report: FuzzReport = { requests: 0, byMethod: {}, problems: [] };
  for (const m of o.methods) report.byMethod[m.path] = { structured: 0, malformed: 0, codes: {} };
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const reply = await o.client.call(job.method.path, job.bytes, job.method.streaming, o.timeoutMs ?? 30_000);
      const counts = report.byMethod[job.method.path];
      if (job.kind === 'structured') counts.structured++;
      else counts.malformed++;
      const name = status[reply.code] ?? String(reply.code);
      counts.codes[name] = (counts.codes[name] ?? 0) + 1;
      report.requests++;
      const problem = replyProblem(reply, job.method.decodeReply);
      if (problem)
        report.problems.push({
          method: job.method.path,
          kind: job.kind,
          index: job.index,
          code: `${name}: ${problem}`,
          details: reply.details,
          request: job.bytes.subarray(0, 64).toString('hex'),
        });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return report;
}

/** One line per method: requests and the statuses they got (for the test log and the README). */
export function formatFuzzReport(service: string, seed: number, r: FuzzReport): string {
  const lines = [`fuzz ${service} (seed ${seed}): ${r.requests} requests, ${r.problems.length} problems`];
  for (const [path, c] of Object.entries(r.byMethod)) {
    const codes = Object.entries(c.codes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${path}: ${c.structured} structured + ${c.malformed} malformed → ${codes}`);
  }
  for (const p of r.problems.slice(0, 20)) lines.push(`  PROBLEM ${p.method} ${p.kind}#${p.index}: ${p.code} "${p.details}" request ${p.request}`);
  return lines.join('\n');
}

/** The fuzz seed: FLOWPRUNE_FUZZ_SEED when set (to replay a failure or explore), else `fallback`. */
export function fuzzSeed(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const s = env['FLOWPRUNE_FUZZ_SEED'];
  if (s === undefined || s === '') return fallback;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`FLOWPRUNE_FUZZ_SEED must be a non-negative integer, got "${s}"`);
  return n >>> 0;
}
