// `flowprune flow` as a real CLI process on the resnet56 fixture: through the importance-estimator's
// GradientFlowService (started on demand) and --in-process give identical files, whose per-layer
// Σθ·Hḡ are the sums of the fixture's grasp values and whose Σθ² are those of mag_based².
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureRoot, readFixtureExpected } from '@flowprune/common/testing';
import { tempDir } from '@flowprune/grpc/testing';
import { runCli } from './cli-process.test-util.js';

// Identical files need a deterministic backend (see importance.test.ts): both processes use wasm.
process.env.FLOWPRUNE_BACKEND ??= 'wasm';

const FIXTURES = fixtureRoot();
const dir = join(FIXTURES, 'resnet56');
const present = existsSync(join(dir, 'expected.json'));

interface FlowFile {
  layers: { conv: string; theta_sq: number; theta_dot_hg: number; theta_dot_grad: number; dist_init_sq?: number; filters?: { theta_dot_grad: number[] } }[];
  total: { theta_sq: number };
  imagesUsed: number;
}

const cli = (args: string[]) => runCli(['flow', ...args]);

const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);

test('flow through the service and in process: the same numbers, equal to the fixture sums', { skip: !present && 'no fixtures' }, async () => {
  const e = readFixtureExpected('resnet56');
  const out = tempDir('flow-cli');
  const args = (file: string) => [
    ...['--arch', 'resnet56', '--num-classes', String(e.num_classes)],
    ...['--weights', join(dir, 'weights.safetensors'), '--init-weights', join(dir, 'init.safetensors'), '--data', join(FIXTURES, 'data_c10.bin')],
    ...['--batch-size', String(e.batch_size), '--samples', String(e.imp_samples), '--T', String(e.first_order.T), '--grasp-T', String(e.hessian.grasp_T)],
    ...['--per-filter', '--no-exact-decisions', '--out', join(out, file)],
  ];
  const [service, local] = await Promise.all([cli(args('service.json')), cli([...args('local.json'), '--in-process'])]);
  assert.equal(service.code, 0, service.stderr);
  assert.equal(local.code, 0, local.stderr);
  assert.match(service.stderr, /estimator 127\.0\.0\.1:\d+/, 'the service path went through an estimator process');
  const a = readFileSync(join(out, 'service.json'), 'utf8');
  assert.equal(a, readFileSync(join(out, 'local.json'), 'utf8'), 'both paths give the same numbers');
  const flow = JSON.parse(a) as FlowFile;
  assert.equal(flow.imagesUsed, e.first_order.images_used);
  flow.layers.forEach((l, k) => {
    const grasp = e.measures.grasp[k];
    // Float32 decisions: the README's float32 fallback scale (1e-2 of the layer's terms).
    assert.ok(Math.abs(l.theta_dot_hg - sum(grasp)) <= 1e-2 * sum(grasp.map(Math.abs)), `layer ${k} θ·Hḡ ${l.theta_dot_hg} vs ${sum(grasp)}`);
    assert.ok(Math.abs(l.theta_sq - sum(e.measures.mag_based[k].map((m) => m * m))) <= 1e-6 * l.theta_sq, `layer ${k} θ²`);
    assert.deepEqual(
      l.filters!.theta_dot_grad.map((v, i) => Math.abs(Math.abs(v) - e.measures.tfo[k][i]) <= 1e-2 * Math.max(...e.measures.tfo[k])),
      e.measures.tfo[k].map(() => true),
      `layer ${k}: |θ·ḡ| per filter is tfo`,
    );
    assert.ok(l.dist_init_sq! > 0, 'θ₀ given: distance from initialisation');
  });
});

test('a bad flag is refused naming it', { skip: !present && 'no fixtures' }, async () => {
  const r = await cli(['--arch', 'resnet56', '--num-classes', '10', '--weights', join(dir, 'weights.safetensors'), '--data', join(FIXTURES, 'data_c10.bin'), '--batch-size', '16', '--samples', '35', '--grasp-T', '-1', '--out', join(tempDir('flow'), 'x.json')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /grasp_T of gradient_flow must be in \[0\.001, 10000\], got -1/);
});
