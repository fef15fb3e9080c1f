// `flowprune bench --suites queue`: the shared run queue of the embedded file store. A sweep of
// queued runs is drained by 1 and by 4 trainer processes that claim (under a lease), start and
// release runs; prints the claim latency (p50/p99) and runs started per second, and the speed-up
// of 4 trainers over 1 (the reference). Only the store's share of starting a run is timed: a real
// run then trains for minutes, so this bounds how fast a team's sweep can be handed out.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRunStore } from '@flowprune/store';
import { WORKSPACE } from './paths.js';

export interface QueueBenchOptions {
  /** Queued runs each configuration drains. */
  runs: number;
  /** Trainer process counts to compare; the first is the reference. */
  trainers: number[];
}

interface Drained {
  trainers: number;
  seconds: number;
  latencies: number[];
}

const WORKER = join(WORKSPACE, 'tools/bench/src/bench-queue-worker.ts');
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function drain(runs: number, trainers: number): Promise<Drained> {
  const root = mkdtempSync(join(tmpdir(), 'flowprune-bench-queue-'));
  try {
    const store = new FileRunStore({ root });
    for (let i = 0; i < runs; i++) {
      const r = await store.createRun({ spec: { seed: i }, model: 'resnet56', dataset: 'cifar10', seed: i });
      await store.enqueueRun(r.id);
    }
    const children = Array.from({ length: trainers }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', WORKER, root, `bench-${i}`, '60000'], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const outputs = children.map((c) => {
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const ready = new Promise<void>((resolve) => c.stdout.on('data', () => out.includes('ready') && resolve()));
      const exit = new Promise<string>((resolve, reject) => c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`queue bench worker exited with ${code}`)))));
      return { ready, exit };
    });
    await Promise.all(outputs.map((o) => o.ready));
    const t0 = performance.now();
    for (const c of children) c.stdin.end('go\n');
    const texts = await Promise.all(outputs.map((o) => o.exit));
    const seconds = (performance.now() - t0) / 1000;
    const latencies = texts.flatMap((t) => (JSON.parse(t.slice(t.indexOf('{'))) as { latencies: number[] }).latencies).sort((a, b) => a - b);
    if (latencies.length !== runs) throw new Error(`${latencies.length} claims for ${runs} queued runs: a run was claimed twice or not at all`);
    return { trainers, seconds, latencies };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function queueFigures(o: QueueBenchOptions): Promise<void> {
  console.log(`\n== run queue (file store): ${o.runs} queued runs drained by trainer processes (claim, start, release) ==`);
  console.log(`${'trainers'.padEnd(9)} ${'runs/s'.padStart(8)} ${'claim p50'.padStart(10)} ${'claim p99'.padStart(10)}  vs ${o.trainers[0]} trainer(s)`);
  let reference: number | undefined;
  for (const n of o.trainers) {
    const d = await drain(o.runs, n);
    const rate = o.runs / d.seconds;
    reference ??= rate;
    console.log(
      `${String(n).padEnd(9)} ${rate.toFixed(1).padStart(8)} ${`${quantile(d.latencies, 0.5).toFixed(1)} ms`.padStart(10)} ${`${quantile(d.latencies, 0.99).toFixed(1)} ms`.padStart(10)}  ${(rate / reference).toFixed(2)}x`,
    );
  }
}
