// `flowprune sweep` over {mag_based, loss_based, grasp} × two ratios on a local stack of the four
// services: every run completes and the results table lists all six.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { tempDir } from '@flowprune/grpc/testing';
import { FileRunStore } from '@flowprune/store';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');

test('a sweep over three measures × two ratios completes and prints its table', async () => {
  const dir = tempDir('sweep');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 8 });
  const base = join(dir, 'base.yaml');
  writeFileSync(
    base,
    [
      'name: sweep-test',
      'arch: resnet56',
      'dataset: syn',
      `datasets: { syn: ${join(dir, 'syn')} }`,
      'n_rounds: 1',
      'imp_samples: 20',
      'lr_prune: 0.05',
      'schedule: [[0.05, 2]]',
      'batch_size: 20',
      'eval_batch_size: 20',
    ].join('\n'),
  );
  const runs = join(dir, 'runs');
  const r = spawnSync(process.execPath, [CLI, 'sweep', base, '--measures', 'mag_based,loss_based,grasp', '--ratios', '30,50', '--store', runs], {
    encoding: 'utf8',
    timeout: 540_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  for (const m of ['mag_based', 'loss_based', 'grasp']) for (const p of ['30 %', '50 %']) assert.match(r.stdout, new RegExp(`${m}\\s*│\\s*${p}`), `${m} ${p} row`);
  assert.doesNotMatch(r.stdout, /failed:/);
  const stored = await new FileRunStore({ root: runs }).listRuns({ status: 'completed' });
  assert.equal(stored.length, 6);
  assert.deepEqual([...new Set(stored.map((s) => s.measure))].sort(), ['grasp', 'loss_based', 'mag_based']);
});
