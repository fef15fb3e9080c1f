// `flowprune run | resume | sweep`: runs through a trainer — the given one, or a local stack of
// the four services over the run file's datasets.
import { resolve } from 'node:path';
import Table from 'cli-table3';
import { call, makeClient } from '@flowprune/grpc';
import { TrainerServiceClient, type RunSpec, type RunSummary } from '@flowprune/proto';
import { startStack, type Stack } from './stack.js';
import { summaryTables } from './summary-table.js';
import { resumeAndWatch, startAndWatch } from './traced-run.js';
import { runEvents } from './watch.js';

export interface TrainerTarget {
  client: TrainerServiceClient;
  close(): Promise<void>;
}

/** A trainer at --trainer, else the four services started locally on --store and the datasets. */
export async function connectTrainer(o: { trainer?: string; store: string; datasets: Record<string, string> }): Promise<TrainerTarget> {
  if (o.trainer) {
    const client = makeClient(TrainerServiceClient, o.trainer);
    return { client, close: async () => client.close() };
  }
  if (Object.keys(o.datasets).length === 0)
    throw new Error('no --trainer given and no dataset to serve: add `datasets: {name: dir}` to the run file or --dataset name=dir');
  const stack: Stack = await startStack({
    datasets: Object.entries(o.datasets).map(([n, d]) => `${n}=${resolve(d)}`),
    storeDir: o.store,
    onOutput: process.env.FLOWPRUNE_VERBOSE ? (l) => process.stderr.write(`${l}\n`) : () => undefined,
  });
  const client = makeClient(TrainerServiceClient, stack.trainer.address);
  return {
    client,
    close: async () => {
      client.close();
      await stack.stop();
    },
  };
}

export async function runOnce(t: TrainerTarget, spec: RunSpec): Promise<{ runId: string; summary?: RunSummary; failure?: string }> {
  const res = await startAndWatch(t.client, spec);
  return { runId: res.runId, summary: res.summary, failure: res.failure };
}

export async function resumeOnce(t: TrainerTarget, runId: string): Promise<{ summary?: RunSummary; failure?: string }> {
  const res = await resumeAndWatch(t.client, runId);
  return { summary: res.summary, failure: res.failure };
}

export interface SweepCell {
  measure: string;
  prunePercent: number;
  seed: number;
  runId: string;
  summary?: RunSummary;
  failure?: string;
}

type CellState = 'queued' | 'running' | 'done';

/** measures × prune ratios × seeds: every cell queued at once, followed together until all end. */
export async function sweep(t: TrainerTarget, base: RunSpec, measures: string[], ratios: number[], seeds: number[], out: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<SweepCell[]> {
  const cells: SweepCell[] = [];
  for (const measure of measures)
    for (const prunePercent of ratios)
      for (const seed of seeds) {
        const spec = { ...base, measure, prunePercent, seed, name: `${base.name || 'sweep'}-${measure}-${prunePercent}-s${seed}` };
        const { runId } = await call(t.client, t.client.startRun, { spec });
        cells.push({ measure, prunePercent, seed, runId });
      }
  out(`sweep: queued ${cells.length} run(s): ${cells.map((c) => c.runId).join(' ')}`);
  const states = new Map<string, CellState>(cells.map((c) => [c.runId, 'queued']));
  let last = '';
  const report = () => {
    const count = (s: CellState) => [...states.values()].filter((x) => x === s).length;
    const line = `sweep: ${count('queued')} queued, ${count('running')} running, ${count('done')} done`;
    if (line !== last) out((last = line));
  };
  report();
  await Promise.all(
    cells.map(async (cell) => {
      for await (const e of runEvents(t.client, cell.runId)) {
        if (e.started && states.get(cell.runId) === 'queued') states.set(cell.runId, 'running');
        if (e.finished) cell.summary = e.finished.summary;
        if (e.failed) cell.failure = e.failed.message;
        if (e.finished || e.failed) states.set(cell.runId, 'done');
        report();
      }
      if (!cell.summary && !cell.failure) cell.failure = 'the watch ended without a result';
      states.set(cell.runId, 'done');
      report();
    }),
  );
  return cells;
}

export function sweepTable(cells: SweepCell[]): string {
  const pct = (x?: number) => (x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : '—');
  const t = new Table({
    head: ['measure', 'pruned', 'seed', 'run', 'acc. before pruning', 'right after', 'best test acc.', 'FLOPs after', 'params after', 'status'],
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  for (const c of cells)
    t.push([
      c.measure,
      `${c.prunePercent} %`,
      c.seed,
      c.runId,
      pct(c.summary?.accuracyBeforePruning),
      pct(c.summary?.accuracyAfterPruning),
      pct(c.summary?.bestTestAccuracy),
      c.summary ? c.summary.flopsAfter.toLocaleString('en-US') : '—',
      c.summary ? c.summary.parametersAfter.toLocaleString('en-US') : '—',
      c.failure ? `failed: ${c.failure}` : 'completed',
    ]);
  return t.toString();
}

export function printSummary(runId: string, summary: RunSummary | undefined, failure: string | undefined): number {
  if (!summary) {
    process.stderr.write(`run ${runId} failed: ${failure ?? 'no summary'}\n`);
    return 1;
  }
  console.log(summaryTables(summary, [['run', runId]]));
  return 0;
}
