// Resumable HTTP(S) download with MD5 verification. Bytes go to `<dest>.part`; a dropped
// connection keeps what arrived and the next attempt asks for the rest with a Range request. Only
// a file whose MD5 matches is renamed to `<dest>`, so `<dest>` is never half-written or wrong.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';

export interface DownloadProgress {
  /** Bytes in the .part file so far (resumed bytes included). */
  received: number;
  /** Full size when the server says it. */
  total?: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected MD5, hex. */
  md5: string;
  /** Extra attempts after a dropped connection, each resuming where the last stopped (default 3). */
  retries?: number;
  /** Pause before the first retry, doubled for each further one (default 1 s, at most 10 s). */
  retryDelayMs?: number;
  /** A connection silent for this long counts as dropped (default 60 s). */
  idleTimeoutMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Called when an attempt failed and another one resumes. */
  onRetry?: (err: Error, attempt: number) => void;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** HTTP requests made (redirects not counted). */
  requests: number;
  /** Offset the first request resumed from (0 = fresh start). */
  resumedFrom: number;
  /** True when `dest` was already there and verified, so nothing was fetched. */
  cached: boolean;
}

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    /** A dropped or timed-out connection: worth resuming. HTTP errors and checksum mismatches are not. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const expected = o.md5.toLowerCase();
  if (existsSync(o.dest)) {
    if ((await md5File(o.dest)) === expected) return { path: o.dest, bytes: sizeOf(o.dest), requests: 0, resumedFrom: 0, cached: true };
    unlinkSync(o.dest); // a stale or foreign file under our name
  }
  const part = `${o.dest}.part`;
  const retries = o.retries ?? 3;
  const resumedFrom = sizeOf(part);
  let requests = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      requests++;
      await fetchInto(o, part, sizeOf(part), 0);
      break;
    } catch (err) {
      const e = err instanceof DownloadError ? err : new DownloadError(String(err), false);
      if (!e.transient || attempt >= retries) {
        const kept = sizeOf(part);
        const resume = e.transient && kept > 0 ? ` ${kept} bytes are kept in ${part}; run the command again to resume.` : '';
        throw new DownloadError(`${e.message}${resume}`, e.transient);
      }
      o.onRetry?.(e, attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min((o.retryDelayMs ?? 1000) * 2 ** attempt, 10_000)));
    }
  }
  const actual = await md5File(part);
  if (actual !== expected) {
    const size = sizeOf(part);
    unlinkSync(part); // resuming a corrupt file could never succeed
    throw new DownloadError(
      `checksum mismatch for ${o.url}: MD5 of the ${size} bytes received is ${actual}, expected ${expected}. ` +
        `The download was deleted; nothing was installed. Check the URL (or --md5) and try again.`,
      false,
    );
  }
  renameSync(part, o.dest);
  return { path: o.dest, bytes: sizeOf(o.dest), requests, resumedFrom, cached: false };
}

function get(url: string, headers: Record<string, string>, idleTimeoutMs: number): Promise<IncomingMessage> {
  const lib = url.startsWith('https:') ? https : url.startsWith('http:') ? http : undefined;
  if (!lib) return Promise.reject(new DownloadError(`unsupported URL ${url} (http or https only)`, false));
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers }, resolve);
    req.setTimeout(idleTimeoutMs, () => req.destroy(new DownloadError(`no data from ${url} for ${idleTimeoutMs / 1000} s`, true)));
    req.on('error', (err) => reject(err instanceof DownloadError ? err : new DownloadError(`cannot reach ${url}: ${err.message}`, true)));
  });
}

/** One request: appends to `part` from `offset` (206) or rewrites it (200). */
async function fetchInto(o: DownloadOptions, part: string, offset: number, redirects: number): Promise<void> {
  // identity: the archive's own bytes, never a transparently re-compressed body.
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'flowprune-data-fetch' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await get(o.url, headers, o.idleTimeoutMs ?? 60_000);
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects >= 5) throw new DownloadError(`too many redirects from ${o.url}`, false);
    return fetchInto({ ...o, url: new URL(res.headers.location, o.url).toString() }, part, offset, redirects + 1);
  }
  if (status === 416 && offset > 0) {
    res.resume();
    // The .part already holds everything the server has (or more): verify it as it is, or restart.
    const total = /\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1];
    if (total !== undefined && Number(total) === offset) return;
    unlinkSync(part);
    throw new DownloadError(`server refused to resume ${o.url} at byte ${offset}; starting over`, true);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new DownloadError(`HTTP ${status} ${res.statusMessage ?? ''} for ${o.url}`.trim(), false);
  }
  let start = 0;
  let total: number | undefined;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== offset) {
      res.resume();
      unlinkSync(part);
      throw new DownloadError(`server sent range "${res.headers['content-range']}" for a request from byte ${offset}; starting over`, true);
    }
    start = offset;
    total = m[3] === '*' ? undefined : Number(m[3]);
  } else {
    // 200: the server ignored Range (or this is a fresh start): the body is the whole file.
    const len = res.headers['content-length'];
    total = len === undefined ? undefined : Number(len);
  }
  let received = start;
  o.onProgress?.({ received, total });
  const file = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  let dropped: Error | undefined;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      received += chunk.length;
      o.onProgress?.({ received, total });
      if (!file.write(chunk)) await once(file, 'drain');
    }
  } catch (err) {
    dropped = err as Error;
  }
  // end() (not destroy) so every byte that arrived reaches the disk and can be resumed from.
  await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  if (dropped) {
    throw new DownloadError(`connection to ${o.url} dropped after ${received}${total ? ` of ${total}` : ''} bytes (${dropped.message})`, true);
  }
  if (!res.complete || (total !== undefined && received !== total)) {
    throw new DownloadError(`connection to ${o.url} closed after ${received}${total ? ` of ${total}` : ''} bytes`, true);
  }
}
