// Three real (tiny) runs through the four services, then `flowprune report`, opened in headless
// Chromium (Debian's `chromium`): every plot must draw. Skipped where no chromium is installed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, makeClient, runSpec } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { TrainerServiceClient, type RunSpec, type WatchRunResponse } from '@flowprune/proto';
import { startStack, type Stack } from './stack.js';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
let stack: Stack | undefined;
let runsDir = '';
const runIds: string[] = [];

const spec = (measure: string, prunePercent: number, seed: number): RunSpec =>
  runSpec({
  name: `report-${measure}`,
  arch: 'resnet56',
  numClasses: 0,
  dataset: { name: 'syn' },
  seed,
  measure,
  measureParams: {},
  prunePercent,
  nRounds: 1,
  thresholds: [],
  temperature: 5,
  impSamples: 0,
  warmupEpochs: 0,
  lrPrune: 0.05,
  momentum: 0.9,
  weightDecay: 1e-4,
  schedule: [{ lr: 0.05, epochs: 2 }],
  batchSize: 20,
  evalBatchSize: 20,
  trainSamples: 0,
  testSamples: 0,
  augment: true,
  preserveMomentum: false,
  });

before(async () => {
  if (!chromium) return;
  const dir = tempDir('report');
  runsDir = join(dir, 'runs');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 4 });
  stack = await startStack({ datasets: [`syn=${join(dir, 'syn')}`], storeDir: runsDir, onOutput: () => undefined });
  const trainer = makeClient(TrainerServiceClient, stack.trainer.address);
  for (const [measure, pct, seed] of [['mag_based', 30, 1], ['l1', 50, 2], ['bn', 70, 3]] as const) {
    const { runId } = await call(trainer, trainer.startRun, { spec: spec(measure, pct, seed) });
    for await (const m of trainer.watchRun({ runId })) {
      const e = (m as WatchRunResponse).event;
      if (e?.failed) throw new Error(`run ${runId} failed: ${e.failed.message}`);
    }
    runIds.push(runId);
  }
  trainer.close();
});

after(async () => {
  await stack?.stop();
});

test('a report of three runs renders all its plots in headless Chromium', { skip: !chromium && 'chromium is not installed (apt-get install chromium)' }, () => {
  const out = join(runsDir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'report', ...runIds, '--store', runsDir, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const dom = spawnSync(
    chromium!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${join(runsDir, 'chromium-profile')}`, '--virtual-time-budget=15000', '--dump-dom', `file://${out}`],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(dom.status, 0, dom.stderr);
  const html = dom.stdout;
  assert.match(html, /data-charts-done="true"/, 'the embedding script finished');
  assert.doesNotMatch(html, /data-error=/, 'no chart failed');
  for (const id of ['accuracy', 'channels', 'accuracy-flops', 'accuracy-latency']) {
    const m = new RegExp(`id="chart-${id}"[^>]*data-rendered="true"[\\s\\S]*?<svg[\\s\\S]*?</svg>`).exec(html);
    assert.ok(m, `chart ${id} drew an SVG`);
    // Marks drawn: the lines/points carry role="graphics-symbol" or mark classes.
    const marks = (m[0].match(/class="mark-(line|symbol)/g) ?? []).length;
    assert.ok(marks > 0, `chart ${id} has marks`);
  }
  for (const id of runIds) assert.ok(html.includes(id), `run ${id} is in the report`);
  // The CLI tables over the same store.
  const ls = spawnSync(process.execPath, [CLI, 'runs', 'ls', '--store', runsDir, '--status', 'completed'], { encoding: 'utf8' });
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(ls.stdout, /3 run\(s\)/);
  const cmp = spawnSync(process.execPath, [CLI, 'runs', 'compare', ...runIds, '--store', runsDir], { encoding: 'utf8' });
  assert.match(cmp.stdout, /mag_based[\s\S]*l1[\s\S]*bn/);
  const show = spawnSync(process.execPath, [CLI, 'runs', 'show', runIds[0], '--store', runsDir], { encoding: 'utf8' });
  assert.match(show.stdout, /pruning_and_training[\s\S]*final_training/);
  const missing = spawnSync(process.execPath, [CLI, 'runs', 'show', '20000101-000000-000000', '--store', runsDir], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /not found in the store/);
});
