// Which dataset the demo picks, and the one line that says so (the full demo runs in the tracing bench).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeIdxDirectory } from '@flowprune/data';
import { DEMO_DEFAULTS, DEMO_PRESETS, demoData, type DemoOptions } from './demo.js';

const root = mkdtempSync(join(tmpdir(), 'flowprune-demo-'));
after(() => rmSync(root, { recursive: true, force: true }));
const opts = (o: Partial<DemoOptions> = {}): DemoOptions => ({ ...DEMO_DEFAULTS, dataDir: root, trainPerClass: 2, testPerClass: 1, ...o });

/** demoData with stderr captured. */
function pick(o: DemoOptions, fashion: string): { data: ReturnType<typeof demoData>; line: string } {
  const write = process.stderr.write.bind(process.stderr);
  let line = '';
  process.stderr.write = ((s: string) => ((line += s), true)) as typeof process.stderr.write;
  try {
    return { data: demoData(o, fashion), line };
  } finally {
    process.stderr.write = write;
  }
}

const fashion = join(root, 'fashion-mnist');
writeIdxDirectory(fashion, { train: { images: new Uint8Array(784), labels: [3] }, test: { images: new Uint8Array(784), labels: [4] } });

test('Fashion-MNIST when installed: one line names it, with its preset (MobileNet-V1, 75 % in 3 rounds)', () => {
  const { data, line } = pick(opts(), fashion);
  assert.deepEqual([data.name, data.root], ['fashion-mnist', fashion]);
  assert.deepEqual(data.preset, DEMO_PRESETS['fashion-mnist']);
  assert.match(line, new RegExp(`^dataset: Fashion-MNIST \\(4000 of 60,000 train images per epoch, 1000 test images; 28x28 grey, padded to 32x32x3\\) from ${fashion}\\n$`));
});

test('not installed: the synthetic set, and one line saying why', () => {
  const { data, line } = pick(opts(), join(root, 'absent'));
  assert.equal(data.name, 'synthetic');
  assert.deepEqual(data.preset, DEMO_PRESETS.synthetic);
  assert.match(line, /^dataset: synthetic CIFAR-10 stand-in \(20 train \/ 10 test images; .*absent not found: apt-get install dataset-fashion-mnist for real images\) in /);
  assert.equal(line.split('\n').length, 2, 'one line');
});

test('--dataset synthetic wins over an installed copy; flags override the preset; --dataset fashion-mnist needs the files', () => {
  assert.equal(pick(opts({ dataset: 'synthetic' }), fashion).data.name, 'synthetic');
  assert.deepEqual(pick(opts({ epochs: 2, arch: 'vgg13' }), fashion).data.preset, { ...DEMO_PRESETS['fashion-mnist'], epochs: 2, arch: 'vgg13' });
  assert.throws(() => pick(opts({ dataset: 'fashion-mnist' }), join(root, 'absent')), /--dataset fashion-mnist: .*absent has no Fashion-MNIST files/);
});
