// A cross-process mutex built on exclusive file creation (open with 'wx'), so several processes
// on one machine can read-modify-write the same run.json without losing each other's updates.
// A lock left behind by a crashed holder is broken once it is older than `staleMs`, or at once
// when its holder's pid is known to be dead on this host.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from './errors.js';

export interface LockOptions {
  /** A lock whose file is older than this is considered abandoned (default 30 s). */
  staleMs?: number;
  /** Give up after waiting this long (default 120 s, i.e. longer than staleMs). */
  timeoutMs?: number;
  /** Backoff bounds between attempts (defaults 2 ms and 100 ms, with jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  at: number;
}

const HOST = hostname();

/** Runs `fn` while holding the lock file at `lockPath`; the lock's directory must exist. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    await release(lockPath, token);
  }
}

async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const staleMs = options.staleMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const minDelay = options.minDelayMs ?? 2;
  const maxDelay = options.maxDelayMs ?? 100;
  const token = randomBytes(8).toString('hex');
  const owner: LockOwner = { pid: process.pid, host: HOST, token, at: Date.now() };
  const started = Date.now();
  let delay = minDelay;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify(owner));
      } finally {
        await fh.close();
      }
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isAbandoned(lockPath, staleMs)) {
      await breakLock(lockPath, staleMs);
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      const holder = await readFile(lockPath, 'utf8').catch(() => '(unreadable)');
      throw new StoreError(
        'lock_timeout',
        `timed out after ${timeoutMs} ms waiting for lock ${lockPath} (held by ${holder}); if no process holds it, delete the file`,
        lockPath,
      );
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(maxDelay, delay * 2);
  }
}

/** Stale by age, or held by a process on this host that no longer exists. */
async function isAbandoned(lockPath: string, staleMs: number): Promise<boolean> {
  const info = await stat(lockPath).catch(() => null);
  if (!info) return false; // released meanwhile; just retry
  if (Date.now() - info.mtimeMs > staleMs) return true;
  const owner = await readOwner(lockPath);
  return owner !== null && owner.host === HOST && !processAlive(owner.pid);
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    const o = parsed as Partial<LockOwner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string' ? (o as LockOwner) : null;
  } catch {
    return null; // just created and not yet written, or gone
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes an abandoned lock without racing another breaker: move it aside under a unique name,
 * then re-check what we moved. If it turns out to be a fresh lock someone took in between, put it
 * back (link() fails rather than overwrite if yet another process took the lock meanwhile).
 */
async function breakLock(lockPath: string, staleMs: number): Promise<void> {
  const aside = `${lockPath}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else released or broke it
  }
  if (!(await isAbandoned(aside, staleMs))) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** Deletes the lock only if it is still ours (it may have been broken as stale meanwhile). */
async function release(lockPath: string, token: string): Promise<void> {
  const owner = await readOwner(lockPath);
  if (owner?.token === token) await unlink(lockPath).catch(() => undefined);
}
