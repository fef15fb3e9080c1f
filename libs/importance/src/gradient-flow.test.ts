// gradientFlow on every public fixture against float64 references built from expected.json alone:
//   Σθ² per filter = mag_based²;  Σθ·Hḡ per filter = grasp (signed, at grasp_T);
//   |Σθ·ḡ| per filter = tfo (the signed sum behind loss_based, at the first-order T).
// Layer and network totals are the float64 sums of those reference values.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Model } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { FIXTURES, fixtureBatches, fixtureFolders, type Expected } from './fixture-suite.test-util.js';
import { GRADIENT_FLOW_INFO, gradientFlow } from './gradient-flow.js';
import { initWeightsFromSafeTensors } from './init-weights.js';
import { resolveParams } from './registry.js';
import { batchListData } from './samples.js';

const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

/** |a − e| relative to the size of the terms behind e (Σ|e_i|): a signed sum can cancel to ~0. */
const relToTerms = (a: number, terms: readonly number[]) => Math.abs(a - sum(terms)) / sum(terms.map(Math.abs));

const folders = fixtureFolders();
if (folders.length === 0) test('gradient flow on the fixtures', { skip: `no fixtures at ${FIXTURES}` }, () => undefined);

for (const folder of folders) {
  test(`${folder}: theta_sq, theta_dot_grad, theta_dot_hg equal the fixture's float64 values to 1e-3`, async (t) => {
    await initBackend({ log: () => undefined });
    const dir = join(FIXTURES, folder);
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const model = Model.fromSafeTensors(new Uint8Array(readFileSync(join(dir, e.weights_file))), { arch: e.architecture, numClasses: e.num_classes });
    const initWeights = e.init_weights_file ? initWeightsFromSafeTensors(new Uint8Array(readFileSync(join(dir, e.init_weights_file))), model) : undefined;
    try {
      const params = resolveParams(GRADIENT_FLOW_INFO, { T: e.first_order.T, grasp_T: e.hessian.grasp_T, imp_samples: e.imp_samples, exact_decisions: 1 });
      const flow = await gradientFlow({ model, params, data: batchListData(fixtureBatches(dir, e)), initWeights }, { perFilter: true });
      assert.equal(flow.imagesUsed, e.first_order.images_used);
      assert.equal(flow.hessianImages, e.hessian.n_samples_per_class * e.num_classes);
      assert.equal(flow.layers.length, e.measures.grasp.length);

      let worst = { theta_sq: 0, theta_dot_grad: 0, theta_dot_hg: 0 };
      const refTotal = { theta_sq: [] as number[], theta_dot_grad: [] as number[], theta_dot_hg: [] as number[] };
      flow.layers.forEach((l, k) => {
        const f = l.filters!;
        const thetaSq = e.measures.mag_based[k].map((m) => m * m);
        // The reference's signed θ·ḡ: tfo's magnitude with the sign of our value (tfo is |Σθ·ḡ|).
        const thetaDotGrad = e.measures.tfo[k].map((m, i) => Math.sign(f.theta_dot_grad[i]) * m);
        const thetaDotHg = e.measures.grasp[k];
        const filterRel = (a: number[], r: number[]) => Math.max(...r.map((x, i) => Math.abs(a[i] - x))) / Math.max(...r.map(Math.abs));
        worst = {
          theta_sq: Math.max(worst.theta_sq, filterRel(f.theta_sq, thetaSq), relToTerms(l.theta_sq, thetaSq)),
          theta_dot_grad: Math.max(worst.theta_dot_grad, filterRel(f.theta_dot_grad, thetaDotGrad), relToTerms(l.theta_dot_grad, thetaDotGrad)),
          theta_dot_hg: Math.max(worst.theta_dot_hg, filterRel(f.theta_dot_hg, thetaDotHg), relToTerms(l.theta_dot_hg, thetaDotHg)),
        };
        refTotal.theta_sq.push(...thetaSq);
        refTotal.theta_dot_grad.push(...thetaDotGrad);
        refTotal.theta_dot_hg.push(...thetaDotHg);
        assert.equal(l.conv, (e as unknown as { layers: { conv: string }[] }).layers[k].conv, `layer ${k} is keyed by its conv weight`);
        assert.ok(l.grad_sq > 0 && Math.abs(l.grad_sq - sum(f.grad_sq)) <= 1e-12 * l.grad_sq, `layer ${k} grad_sq is the sum of its filters'`);
        if (initWeights) assert.ok(l.dist_init_sq! > 0, `layer ${k} has a distance from θ₀`);
      });
      const totalRel = {
        theta_sq: Math.abs(flow.total.theta_sq - sum(refTotal.theta_sq)) / Math.abs(sum(refTotal.theta_sq)),
        theta_dot_grad: Math.abs(flow.total.theta_dot_grad - sum(refTotal.theta_dot_grad)) / Math.abs(sum(refTotal.theta_dot_grad)),
        theta_dot_hg: Math.abs(flow.total.theta_dot_hg - sum(refTotal.theta_dot_hg)) / Math.abs(sum(refTotal.theta_dot_hg)),
      };
      t.diagnostic(`${folder}: per filter / per layer rel ${JSON.stringify(worst)}; totals rel ${JSON.stringify(totalRel)}; total ${JSON.stringify(flow.total)}`);
      for (const [q, r] of [...Object.entries(worst), ...Object.entries(totalRel)]) assert.ok(r <= 1e-3, `${folder} ${q}: rel ${r} > 1e-3`);
    } finally {
      model.dispose();
    }
  });
}
