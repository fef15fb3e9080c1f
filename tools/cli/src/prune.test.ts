// The fixtures' selection_examples reproduced through `flowprune prune` (a real CLI process).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureRoot, readFixtureExpected, type SelectionExample } from '@flowprune/common/testing';
import { tempDir } from '@flowprune/grpc/testing';
import { parseSafeTensors } from '@flowprune/models';
import { reportPath } from './prune.js';

const FIXTURES = fixtureRoot();
const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const present = existsSync(join(FIXTURES, 'README.md'));


const archs = present ? ['vgg13', 'mobilenet_v1', 'resnet56'].filter((a) => existsSync(join(FIXTURES, a, 'expected.json'))) : [];

for (const arch of archs) {
  test(`${arch}: flowprune prune reproduces every selection example`, () => {
    const e = readFixtureExpected(arch);
    const dir = tempDir('prune-cli');
    const imp = join(dir, 'imp.json');
    writeFileSync(imp, JSON.stringify({ mag_based: e.measures.mag_based.map((v) => v.map(Math.fround)) }));
    for (const ex of e.selection_examples) {
      const out = join(dir, `${ex.name}.safetensors`);
      const args = ['--arch', arch, '--num-classes', String(e.num_classes), '--weights', join(FIXTURES, arch, 'weights.safetensors')];
      const r = spawnSync(process.execPath, [CLI, 'prune', ...args, '--importance', imp, '--ratio', String(ex.ratio), '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /before.*after/);
      const rep = JSON.parse(readFileSync(reportPath(out), 'utf8')) as SelectionExample; // the report uses the fixture's field names
      assert.equal(rep.n_entries, ex.n_entries);
      assert.equal(rep.n_prune, ex.n_prune, `${ex.name} n_prune`);
      assert.deepEqual(rep.prune_counts, ex.prune_counts, `${ex.name} counts`);
      assert.deepEqual(rep.remaining, ex.remaining, `${ex.name} remaining`);
      assert.deepEqual(rep.survivors, ex.survivors, `${ex.name} survivors`);
      assert.deepEqual(rep.pruned_config, ex.pruned_config, `${ex.name} config`);
      if (ex.effective_config) assert.deepEqual(rep.effective_config, ex.effective_config);
      if (ex.masks_zeroed) assert.deepEqual(rep.masks_zeroed, ex.masks_zeroed);
      // The checkpoint itself: shapes and sums of every floating tensor.
      const file = parseSafeTensors(new Uint8Array(readFileSync(out)));
      assert.deepEqual(JSON.parse(file.metadata.config), ex.pruned_config);
      for (const [name, [shape, sum, abs]] of Object.entries(ex.pruned_checksums)) {
        const t = file.tensors.get(name);
        assert.ok(t, `${ex.name}: ${name} in the checkpoint`);
        assert.deepEqual(t.shape, shape, `${ex.name} ${name} shape`);
        let s = 0;
        let a = 0;
        for (const v of t.data as Float32Array) {
          s += v;
          a += Math.abs(v);
        }
        assert.ok(Math.abs(s - sum) <= 1e-6 * abs && Math.abs(a - abs) <= 1e-6 * abs, `${ex.name} ${name}: ${s}/${a} vs ${sum}/${abs}`);
      }
    }
  });
}

test('--policy generic removes whole channel groups; an unknown policy is a one-line error', { skip: !archs.includes('vgg13') && 'no vgg13 fixture' }, () => {
  const e = readFixtureExpected('vgg13');
  const dir = tempDir('prune-generic');
  const imp = join(dir, 'imp.json');
  writeFileSync(imp, JSON.stringify({ mag_based: e.measures.mag_based }));
  const out = join(dir, 'g.safetensors');
  const args = ['prune', '--arch', 'vgg13', '--num-classes', String(e.num_classes), '--weights', join(FIXTURES, 'vgg13', 'weights.safetensors'), '--importance', imp, '--ratio', '0.5', '--out', out];
  const r = spawnSync(process.execPath, [CLI, ...args, '--policy', 'generic', '--aggregate', 'mean'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(readFileSync(reportPath(out), 'utf8')) as { policy: string; n_prune: number; n_entries: number; remaining: number[] };
  assert.equal(rep.policy, 'generic');
  assert.equal(rep.n_entries, 2944, 'one entry per channel of the ten conv groups');
  assert.equal(rep.remaining.reduce((a, b) => a + b, 0), 2944 - rep.n_prune, 'the generic policy has no cap: all n_prune channels go');
  const bad = spawnSync(process.execPath, [CLI, ...args, '--policy', 'greedy'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--policy must be one of paper, generic, got greedy/);
});

test('bad input: the error names the flag and the fix', () => {
  const dir = tempDir('prune-bad');
  const imp = join(dir, 'imp.json');
  writeFileSync(imp, JSON.stringify({ a: [[1]], b: [[2]] }));
  const r = spawnSync(process.execPath, [CLI, 'prune', '--arch', 'vgg13', '--num-classes', '10', '--weights', imp, '--importance', imp, '--ratio', '0.5', '--out', join(dir, 'o.safetensors')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /holds 2 measures \(a, b\); pick one with --measure/);
  const r2 = spawnSync(process.execPath, [CLI, 'prune', '--arch', 'alexnet', '--num-classes', '10', '--weights', imp, '--importance', imp, '--ratio', '0.5', '--out', join(dir, 'o.safetensors')], { encoding: 'utf8' });
  assert.match(r2.stderr, /unknown architecture "alexnet"; choose one of vgg13/);
});
