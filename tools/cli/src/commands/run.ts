import type { Command } from 'commander';
import { RunSpec } from '@flowprune/proto';
import { readRunFile, specFromObject, type RunFileExtras } from '../run-file.js';
import { call } from '@flowprune/grpc';
import { connectTrainer, printSummary, resumeOnce, runOnce, sweep, sweepTable } from '../run.js';
import { storeOption } from '../store-option.js';

interface RunFlags {
  trainer?: string;
  detach?: boolean;
  store: string;
  dataset: string[];
  set: string[];
}

/** --dataset name=dir (repeatable) and --set key=value (repeatable, RunSpec fields). */
function overlay(base: { spec: RunSpec; extras: RunFileExtras }, o: RunFlags): { spec: RunSpec; extras: RunFileExtras } {
  const datasets = { ...base.extras.datasets };
  for (const d of o.dataset) {
    const eq = d.indexOf('=');
    if (eq <= 0) throw new Error(`--dataset "${d}" must look like name=/path/to/dir`);
    datasets[d.slice(0, eq)] = d.slice(eq + 1);
  }
  const sets: Record<string, unknown> = {};
  for (const kv of o.set) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--set "${kv}" must look like key=value, e.g. prune_percent=75`);
    const raw = kv.slice(eq + 1);
    sets[kv.slice(0, eq)] = raw === 'true' ? true : raw === 'false' ? false : /^-?[\d.]+(e-?\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  const json = { ...(RunSpec.toJSON(base.spec) as Record<string, unknown>) };
  const merged = specFromObject({ ...json, ...sets }, '--set');
  if (!merged.spec.dataset && Object.keys(datasets).length === 1) merged.spec.dataset = { name: Object.keys(datasets)[0] };
  return { spec: merged.spec, extras: { datasets } };
}

const common = (c: Command) =>
  c
    .option('--trainer <host:port>', 'a running trainer; without it the four services start locally')
    .addOption(storeOption('run store of the local services'))
    .option('--dataset <name=dir...>', 'datasets for the local data-loader', [])
    .option('--set <key=value...>', 'override run-file fields, e.g. --set prune_percent=75 n_rounds=25', []);

export function registerRun(program: Command): void {
  common(
    program
      .command('run [spec]')
      .description('one prune+train (or base-training) run from a YAML/JSON run file and/or --set fields, with live progress and a final summary')
      .option('--detach', 'queue the run on --trainer, print its id and return (follow it with `flowprune runs wait`)'),
  ).action(async (file: string | undefined, o: RunFlags) => {
    const { spec, extras } = overlay(file ? readRunFile(file) : { spec: RunSpec.fromJSON({}), extras: { datasets: {} } }, o);
    if (o.detach && !o.trainer) throw new Error('--detach needs --trainer: the local services stop when the command returns');
    const t = await connectTrainer({ trainer: o.trainer, store: o.store, datasets: extras.datasets });
    try {
      if (o.detach) {
        console.log((await call(t.client, t.client.startRun, { spec })).runId);
        return;
      }
      const r = await runOnce(t, spec);
      process.exitCode = printSummary(r.runId, r.summary, r.failure);
    } finally {
      await t.close();
    }
  });

  common(program.command('resume <run>').description('continue a stopped run (e.g. its trainer was killed) from its last epoch snapshot')).action(
    async (runId: string, o: RunFlags) => {
      const t = await connectTrainer({ trainer: o.trainer, store: o.store, datasets: overlay({ spec: RunSpec.fromJSON({}), extras: { datasets: {} } }, o).extras.datasets });
      try {
        const r = await resumeOnce(t, runId);
        process.exitCode = printSummary(runId, r.summary, r.failure);
      } finally {
        await t.close();
      }
    },
  );

  common(
    program
      .command('sweep <spec>')
      .description('measures × prune ratios × seeds from a base run file, all queued at once (the trainers share them); shows queued/running/done, then a results table')
      .requiredOption('--measures <list>', 'e.g. mag_based,loss_based,grasp')
      .requiredOption('--ratios <list>', 'prune percentages, e.g. 50,75')
      .option('--seeds <list>', 'seeds', '0'),
  ).action(async (file: string, o: RunFlags & { measures: string; ratios: string; seeds: string }) => {
    const { spec, extras } = overlay(readRunFile(file), o);
    const t = await connectTrainer({ trainer: o.trainer, store: o.store, datasets: extras.datasets });
    try {
      const cells = await sweep(t, spec, o.measures.split(','), o.ratios.split(',').map(Number), o.seeds.split(',').map(Number));
      console.log(sweepTable(cells));
      process.exitCode = cells.some((c) => c.failure) ? 1 : 0;
    } finally {
      await t.close();
    }
  });
}
