// Child-process side of the contract suite's multi-process tests. It opens the store through the
// factory named on the command line, says "ready", waits for "go" on stdin (so all workers start
// together and really contend), performs its task and exits 0 (or 1 with the error on stderr).

import { pathToFileURL } from 'node:url';
import type { RunStore } from './run-store.js';

export interface ChildStoreFactory {
  /** Absolute path (or file URL) of a module exporting the factory. */
  module: string;
  /** Name of the exported function `(options) => RunStore | Promise<RunStore>`. */
  exportName: string;
  /** JSON options passed to the factory. */
  options: unknown;
}

export type WorkerTask =
  | { action: 'append-stats'; factory: ChildStoreFactory; runId: string; count: number; tag: number }
  | { action: 'rewrite-summary'; factory: ChildStoreFactory; runId: string; count: number; payloadBytes: number }
  /** Claims runs until the queue is empty, marking each with a fenced `claimed` event. */
  | { action: 'claim-all'; factory: ChildStoreFactory; tag: number; leaseMs: number };

/** The summary written by `rewrite-summary` version v: a blob of one letter tied to v. */
export function summaryFor(version: number, payloadBytes: number): Record<string, unknown> {
  return { version, size: payloadBytes, blob: String.fromCharCode(97 + (version % 26)).repeat(payloadBytes) };
}

async function openStore(factory: ChildStoreFactory): Promise<RunStore> {
  const url = factory.module.startsWith('file:') ? factory.module : pathToFileURL(factory.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const make = mod[factory.exportName];
  if (typeof make !== 'function') throw new Error(`${factory.module} does not export a function ${factory.exportName}`);
  return (await (make as (o: unknown) => RunStore | Promise<RunStore>)(factory.options)) as RunStore;
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (chunk.includes('go')) resolve();
    });
  });
}

async function run(task: WorkerTask): Promise<void> {
  const store = await openStore(task.factory);
  process.stdout.write('ready\n');
  await waitForGo();
  if (task.action === 'claim-all') {
    for (let run = await store.claimRun(`worker-${task.tag}`, task.leaseMs); run; run = await store.claimRun(`worker-${task.tag}`, task.leaseMs)) {
      await store.appendEvent(run.id, { type: 'claimed', data: { worker: task.tag } }, { fence: run.lease!.token });
    }
    return;
  }
  for (let i = 0; i < task.count; i++) {
    if (task.action === 'append-stats') {
      await store.appendEpochStat(task.runId, {
        phase: 'pruning_and_training',
        epoch: i,
        lr: 0.1,
        trainLoss: 1 / (i + 1),
        trainAcc: 0.5,
        seconds: 0.01,
        extra: { worker: task.tag },
      });
    } else {
      await store.updateRun(task.runId, { summary: summaryFor(i + 1, task.payloadBytes) });
    }
  }
}

// Only act when started as a program; contract.ts imports this module for its types and helpers.
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  run(JSON.parse(process.argv[2] ?? '{}') as WorkerTask).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
