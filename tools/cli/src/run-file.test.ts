// The example run files parse strictly (an unknown key would fail) and name what they use.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectFormat, IDX_SYSTEM_DIRS } from '@flowprune/data';
import { ARCH_NAMES } from '@flowprune/models';
import { readRunFile, RunFileError } from './run-file.js';

const EXAMPLES = join(import.meta.dirname, '../examples');

test('every example run file parses, and its dataset is one it serves, with a known architecture', () => {
  const files = readdirSync(EXAMPLES).filter((f) => /\.(ya?ml|json)$/.test(f));
  assert.ok(files.includes('mobilenet-fashion-mnist-mag75.yaml'));
  for (const f of files) {
    const { spec, extras } = readRunFile(join(EXAMPLES, f));
    // An example with `model:` (an imported model, its graph in the starting weights) has no arch.
    assert.ok((ARCH_NAMES as readonly string[]).includes(spec.arch) || (spec.arch === '' && spec.pretrained), `${f}: arch ${spec.arch}`);
    assert.ok(spec.dataset?.name && extras.datasets[spec.dataset.name], `${f}: dataset ${spec.dataset?.name} is in its datasets`);
  }
});

test('the Fashion-MNIST example: the paper protocol shortened (MobileNet-V1, magnitude, 75 % in 3 rounds, 9 epochs)', () => {
  const { spec, extras } = readRunFile(join(EXAMPLES, 'mobilenet-fashion-mnist-mag75.yaml'));
  assert.deepEqual([spec.arch, spec.measure, spec.prunePercent, spec.nRounds, spec.temperature], ['mobilenet_v1', 'mag_based', 75, 3, 5]);
  assert.deepEqual(spec.schedule.map((p) => [p.lr, p.epochs]), [[0.1, 6], [0.01, 2], [0.001, 1]]);
  assert.equal(extras.datasets['fashion-mnist'], IDX_SYSTEM_DIRS['fashion-mnist'], 'reads the Debian copy in place');
});

test('the Fashion-MNIST example points at an idx folder', { skip: !existsSync(IDX_SYSTEM_DIRS['fashion-mnist'] ?? '') && 'dataset-fashion-mnist is not installed' }, () => {
  const { extras } = readRunFile(join(EXAMPLES, 'mobilenet-fashion-mnist-mag75.yaml'));
  assert.equal(detectFormat(extras.datasets['fashion-mnist']), 'idx');
});

test('a copy of the template with a misspelt key is refused, naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowprune-run-file-'));
  try {
    const copy = join(dir, 'mine.yaml');
    writeFileSync(copy, readFileSync(join(EXAMPLES, 'mobilenet-fashion-mnist-mag75.yaml'), 'utf8').replace('n_rounds:', 'n_round:'));
    assert.throws(() => readRunFile(copy), (e: Error) => e instanceof RunFileError && /unknown field "n_round"/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the generic policy’s settings (aggregate, max_ratio, round_to) are run-file keys of an imported run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowprune-run-file-'));
  try {
    const copy = join(dir, 'tuned.yaml');
    const text = readFileSync(join(EXAMPLES, 'imported-mobilenet-v2-fashion-mnist.yaml'), 'utf8').replace('model: libs/', `model: ${join(import.meta.dirname, '../../../libs')}/`);
    writeFileSync(copy, `${text}\naggregate: max\nmax_ratio: 0.5\nround_to: 8\n`);
    const { spec } = readRunFile(copy);
    assert.deepEqual([spec.aggregate, spec.maxRatio, spec.roundTo], ['max', 0.5, 8]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
