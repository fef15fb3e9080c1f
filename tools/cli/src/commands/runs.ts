import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { renderReport } from '@flowprune/report';
import { runAnalyze } from '../analyze.js';
import { compareRuns, listRunsTable, loadRuns, showRun, toFilter, waitForRuns, type RunsFilterOptions } from '../runs.js';
import { closeStore, storeFrom, storeOption } from '../store-option.js';

const storeOpt = () => storeOption('run store: a directory (embedded) or a mongodb:// URI');

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('list, show and compare stored runs');
  runs
    .command('ls')
    .description('runs in the store, oldest first; queued runs with their position, running ones with their trainer')
    .addOption(storeOpt())
    .option('--model <arch>')
    .option('--measure <name>')
    .option('--ratio <fraction>', 'prune ratio, e.g. 0.5', Number)
    .option('--seed <n>', 'seed', Number)
    .option('--status <list>', 'e.g. completed,failed')
    .action(async (o: RunsFilterOptions & { store: string }) => {
      const store = storeFrom(o.store);
      try {
        console.log(await listRunsTable(store, toFilter(o)));
      } finally {
        await closeStore(store);
      }
    });
  runs
    .command('show <run>')
    .description('one run: spec, per-epoch stats, rounds, checkpoints, summary')
    .addOption(storeOpt())
    .action(async (id: string, o: { store: string }) => {
      const store = storeFrom(o.store);
      try {
        console.log(await showRun(store, id));
      } finally {
        await closeStore(store);
      }
    });
  runs
    .command('wait <runs...>')
    .description('wait until the runs end (on whichever trainers), print each one\'s status; exit 1 unless all completed')
    .addOption(storeOpt())
    .option('--poll <seconds>', 'how often to look', '2')
    .action(async (ids: string[], o: { store: string; poll: string }) => {
      const pollS = Number(o.poll);
      if (!(pollS > 0)) throw new Error(`--poll must be a positive number of seconds, got "${o.poll}"`);
      const store = storeFrom(o.store);
      try {
        const done = await waitForRuns(store, ids, pollS * 1000, (line) => console.log(line));
        process.exitCode = done.every((r) => r.status === 'completed') ? 0 : 1;
      } finally {
        await closeStore(store);
      }
    });
  runs
    .command('compare <runs...>')
    .description('runs side by side')
    .addOption(storeOpt())
    .action(async (ids: string[], o: { store: string }) => {
      const store = storeFrom(o.store);
      try {
        console.log(await compareRuns(store, ids));
      } finally {
        await closeStore(store);
      }
    });
}

export function registerReport(program: Command): void {
  program
    .command('report <runs...>')
    .description('an HTML report with plots (accuracy per epoch, channels per round, accuracy vs FLOPs), viewable offline')
    .addOption(storeOpt())
    .option('--out <file>', 'output HTML file', 'report.html')
    .option('--title <text>', 'report title', 'flowprune report')
    .action(async (ids: string[], o: { store: string; out: string; title: string }) => {
      const store = storeFrom(o.store);
      try {
        writeFileSync(o.out, renderReport(await loadRuns(store, ids), o.title));
        console.log(`wrote ${o.out} (${ids.length} run(s))`);
      } finally {
        await closeStore(store);
      }
    });
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze <runs...>')
    .description("the paper's gradient-flow claims as numeric checks over runs recorded with `analysis: {every_batches: k}`, and an HTML report with the figures")
    .addOption(storeOpt())
    .option('--out <file>', 'HTML report (norm evolution, correlation heat maps, loss by measure, surviving channels, predicted vs measured)', 'analysis.html')
    .option('--json <file>', 'also write the checks as JSON')
    .option('--title <text>', 'report title', 'flowprune gradient-flow analysis')
    .action(async (ids: string[], o: { store: string; out: string; json?: string; title: string }) => {
      const store = storeFrom(o.store);
      try {
        const r = await runAnalyze(store, ids, o);
        console.log(r.table);
        if (r.html) writeFileSync(o.out, r.html);
        if (o.json) writeFileSync(o.json, `${JSON.stringify(r.checks, null, 1)}\n`);
        console.log(`wrote ${o.out}${o.json ? ` and ${o.json}` : ''} (${ids.length} run(s))`);
      } finally {
        await closeStore(store);
      }
    });
}
