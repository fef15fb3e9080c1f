// `flowprune import` and an imported model through the other commands, as a user runs them:
// PyTorch's DenseNet (testdata) imported, scored, pruned by the generic policy with round_to,
// evaluated, exported and timed in ONNX Runtime and on flowprune's backend; and the refusals.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '@flowprune/common';
import { tempDir } from '@flowprune/grpc/testing';
import { parseSafeTensors } from '@flowprune/models';
import { decodeOnnx } from '@flowprune/onnx';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const MODEL = join(import.meta.dirname, '../../../libs/onnx/testdata/torchvision/densenet121.onnx');
const dir = tempDir('import-cli');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: join(import.meta.dirname, '../../..') });

test('import, importance, prune (generic, round_to), eval, export and latency of a PyTorch DenseNet', () => {
  const ckpt = join(dir, 'densenet.safetensors');
  const imp = cli('import', MODEL, '--out', ckpt);
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /3×32×32 input, 10 classes, 7,088 parameters; .*concat/);
  const meta = parseSafeTensors(new Uint8Array(readFileSync(ckpt))).metadata;
  assert.equal(meta.arch, 'graph');
  assert.ok(JSON.parse(meta.graph).nodes.length > 0);

  // 20 CIFAR-binary records (label byte + 3072 CHW bytes) for the data-driven measures' format.
  const rand = mulberry32(3);
  const data = join(dir, 'data.bin');
  writeFileSync(data, Uint8Array.from({ length: 20 * 3073 }, (_, i) => (i % 3073 === 0 ? (i / 3073) % 10 : Math.floor(rand() * 256))));
  const scores = join(dir, 'imp.json');
  const im = cli('importance', '--weights', ckpt, '--num-classes', '10', '--data', data, '--batch-size', '10', '--samples', '10', '--measure', 'mag_based', '--out', scores);
  assert.equal(im.status, 0, im.stderr);

  const pruned = join(dir, 'pruned.safetensors');
  const pr = cli('prune', '--weights', ckpt, '--importance', scores, '--ratio', '0.5', '--policy', 'generic', '--round-to', '2', '--out', pruned);
  assert.equal(pr.status, 0, pr.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'pruned.prune.json'), 'utf8')) as { remaining: number[]; arch: string };
  assert.equal(report.arch, 'graph');
  assert.ok(report.remaining.every((k) => k % 2 === 0), `kept ${report.remaining}`);

  const ev = cli('eval', '--weights', pruned, '--flops');
  assert.equal(ev.status, 0, ev.stderr);
  assert.match(ev.stdout, /parameters/);

  const onnx = join(dir, 'pruned.onnx');
  const ex = cli('export', '--weights', pruned, '--out', onnx);
  assert.equal(ex.status, 0, ex.stderr);
  const params = (f: string) => decodeOnnx(new Uint8Array(readFileSync(f))).graph!.initializer.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
  assert.ok(params(onnx) < params(MODEL), `${params(onnx)} vs ${params(MODEL)} initializer values`);

  const lat = cli('latency', onnx, '--baseline', MODEL, '--batch', '1', '--warmup', '0', '--runs', '1');
  assert.equal(lat.status, 0, lat.stderr);
  assert.match(lat.stdout, /MAC speed-up/);
  assert.match(lat.stdout, /flowprune \(/);
});

test('bytes that are not ONNX are a one-line CLI error', () => {
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'not a model');
  const r = cli('import', junk, '--out', join(dir, 'x.safetensors'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^flowprune: .*junk\.onnx is not an ONNX model/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
