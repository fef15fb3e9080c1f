// Parent side of the multi-process tests: starts contract-worker.ts children, waits until all of
// them are ready, releases them at once and reports their exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerTask } from './contract-worker.js';

const WORKER = fileURLToPath(new URL('./contract-worker.ts', import.meta.url));

export interface RunningWorkers {
  /** Resolves when every worker exited 0; rejects with the first failure's stderr. */
  finished: Promise<void>;
  /** True once every worker has exited. */
  done(): boolean;
}

function startOne(task: WorkerTask): { child: ChildProcess; ready: Promise<void>; exit: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(task)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}: ${stderr}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    exit.then(() => reject(new Error('worker exited before ready')), reject);
  });
  return { child, ready, exit };
}

/** Starts all tasks as separate processes and lets them run concurrently. */
export async function startWorkers(tasks: WorkerTask[]): Promise<RunningWorkers> {
  const workers = tasks.map(startOne);
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (err) {
    for (const w of workers) w.child.kill();
    throw err;
  }
  for (const w of workers) w.child.stdin?.end('go\n');
  let exited = 0;
  const exits = workers.map((w) => w.exit.finally(() => exited++));
  const finished = Promise.all(exits).then(() => undefined);
  finished.catch(() => undefined); // callers await it; avoid an unhandled rejection while they poll
  return { finished, done: () => exited === workers.length };
}
