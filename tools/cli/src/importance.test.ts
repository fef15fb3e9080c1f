// `flowprune importance` as a real CLI process on the resnet56 fixture: through the estimator
// service (started on demand) and --in-process give identical files, equal to the references.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureRoot, layerRel, readFixtureExpected } from '@flowprune/common/testing';
import { tempDir } from '@flowprune/grpc/testing';
import { runCli } from './cli-process.test-util.js';

// Identical files need a deterministic backend: the multi-threaded native backend's reductions are
// not bitwise reproducible run to run, so both CLI processes (and the service they start) use wasm.
process.env.FLOWPRUNE_BACKEND ??= 'wasm';

const FIXTURES = fixtureRoot();
const dir = join(FIXTURES, 'resnet56');
const present = existsSync(join(dir, 'expected.json'));

const cli = (args: string[]) => runCli(['importance', ...args]);

test('through the service and in process: the same numbers, equal to the fixture', { skip: !present && 'no fixtures' }, async () => {
  const e = readFixtureExpected('resnet56');
  const out = tempDir('importance-cli');
  const measures = ['mag_based', 'tfo', 'biased_loss_init'];
  const args = (file: string) => [
    ...['--arch', 'resnet56', '--num-classes', String(e.num_classes)],
    ...['--weights', join(dir, 'weights.safetensors'), '--init-weights', join(dir, 'init.safetensors'), '--data', join(FIXTURES, 'data_c10.bin')],
    ...['--batch-size', String(e.batch_size), '--samples', String(e.imp_samples), '--T', String(e.first_order.T)],
    ...['--measure', measures.join(','), '--out', join(out, file)],
  ];
  const [service, local] = await Promise.all([cli(args('service.json')), cli([...args('local.json'), '--in-process'])]);
  assert.equal(service.code, 0, service.stderr);
  assert.equal(local.code, 0, local.stderr);
  assert.match(service.stderr, /estimator 127\.0\.0\.1:\d+/, 'the service path went through an estimator process');
  const a = readFileSync(join(out, 'service.json'), 'utf8');
  assert.equal(a, readFileSync(join(out, 'local.json'), 'utf8'), 'both paths give the same numbers');
  const got = JSON.parse(a) as Record<string, number[][]>;
  assert.deepEqual(Object.keys(got), measures);
  for (const m of measures) assert.ok(layerRel(got[m], e.measures[m]) <= 1e-3, `${m}: rel ${layerRel(got[m], e.measures[m])}`);
});

test('unknown measures and a missing θ₀ are refused naming the flag', { skip: !present && 'no fixtures' }, async () => {
  const base = ['--arch', 'resnet56', '--num-classes', '10', '--weights', join(dir, 'weights.safetensors'), '--data', join(FIXTURES, 'data_c10.bin'), '--batch-size', '16', '--samples', '35', '--out', join(tempDir('imp'), 'x.json')];
  const unknown = await cli([...base, '--measure', 'tfo,snip']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--measure: unknown "snip"; available: .*grad_preserve/);
  const noInit = await cli([...base, '--measure', 'biased_loss_tracked_l2_init']);
  assert.equal(noInit.code, 1);
  assert.match(noInit.stderr, /--init-weights is required by biased_loss_tracked_l2_init/);
});
