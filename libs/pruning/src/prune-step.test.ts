import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fixtureRoot, readFixtureExpected } from '@flowprune/common/testing';
import { initBackend } from '@flowprune/tensor';
import { Model } from '@flowprune/models';
import { stateChecksums } from './checksums.js';
import { defaultRatios, nextPCumulative, thresholdRatios } from './schedule.js';
import { originalWidths, pruneStep } from './prune-step.js';

const FIXTURES = fixtureRoot();
const present = existsSync(join(FIXTURES, 'README.md'));


before(async () => {
  await initBackend();
});

for (const arch of ['vgg13', 'resnet56', 'mobilenet_v1']) {
  test(`${arch}: selection_examples reproduced exactly`, { skip: !present && 'no fixtures' }, () => {
    const e = readFixtureExpected(arch);
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, arch, 'weights.safetensors')));
    const model = Model.fromSafeTensors(bytes, { arch, numClasses: e.num_classes });
    // The examples rank the float32 mag_based values.
    const importance = e.measures.mag_based.map((v) => v.map((x) => Math.fround(x)));
    for (const ex of e.selection_examples) {
      const ratios = ex.thresholds ? thresholdRatios(ex.thresholds) : defaultRatios(ex.p_total!, ex.n_rounds!);
      const ratio = ratios[ex.round - 1];
      assert.equal(ratio, ex.ratio, `${ex.name} ratio`);
      const pc = nextPCumulative(100, ratio);
      assert.equal(pc, ex.p_cumulative, `${ex.name} p_cumulative`);
      const res = pruneStep(model, importance, { ratio, pCumulative: pc, originalWidths: originalWidths(model.net) });
      assert.equal(res.effectiveRatio, ex.effective_ratio, `${ex.name} effective ratio`);
      assert.equal(res.selection.nEntries, ex.n_entries);
      assert.equal(res.selection.nPrune, ex.n_prune);
      assert.deepEqual(res.selection.counts, ex.prune_counts, `${ex.name} counts`);
      assert.deepEqual(res.remaining, ex.remaining, `${ex.name} remaining`);
      assert.deepEqual(res.selection.survivors, ex.survivors, `${ex.name} survivors`);
      assert.deepEqual(JSON.parse(JSON.stringify(res.plan.config)), ex.pruned_config, `${ex.name} config`);
      if (ex.effective_config) assert.deepEqual(JSON.parse(JSON.stringify(res.plan.effectiveConfig)), ex.effective_config);
      if (ex.masks_zeroed) assert.deepEqual(res.plan.masksZeroed, ex.masks_zeroed);
      const sums = stateChecksums(res.model.stateDict());
      for (const [name, [shape, s, a]] of Object.entries(ex.pruned_checksums)) {
        assert.ok(sums[name], `${ex.name}: pruned state lacks ${name}`);
        assert.deepEqual(sums[name][0], shape, `${ex.name} ${name} shape`);
        assert.ok(Math.abs(sums[name][1] - s) <= 1e-6 * Math.max(a, 1e-12), `${ex.name} ${name} sum ${sums[name][1]} vs ${s}`);
        assert.ok(Math.abs(sums[name][2] - a) <= 1e-6 * Math.max(a, 1e-12), `${ex.name} ${name} sum|x| ${sums[name][2]} vs ${a}`);
      }
      res.model.dispose();
    }
    model.dispose();
  });
}
