// `flowprune run | resume | sweep`: runs through a trainer — the given one, or a local stack of
// the four services over the run file's datasets.
import { resolve } from 'node:path';
import Table from 'cli-table3';
import { makeClient } from '@flowprune/grpc';
import { TrainerServiceClient, type RunSpec, type RunSummary } from '@flowprune/proto';
import { startStack, type Stack } from './stack.js';
import { summaryTables } from './summary-table.js';
import { resumeAndWatch, startAndWatch } from './traced-run.js';

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

/** measures × prune ratios × seeds, one run at a time through the trainer. */
export async function sweep(t: TrainerTarget, base: RunSpec, measures: string[], ratios: number[], seeds: number[]): Promise<SweepCell[]> {
  const cells: SweepCell[] = [];
  for (const measure of measures)
    for (const prunePercent of ratios)
      for (const seed of seeds) {
        process.stderr.write(`\n== sweep: ${measure}, ${prunePercent} %, seed ${seed} ==\n`);
        const r = await runOnce(t, { ...base, measure, prunePercent, seed, name: `${base.name || 'sweep'}-${measure}-${prunePercent}-s${seed}` });
        cells.push({ measure, prunePercent, seed, ...r });
      }
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
