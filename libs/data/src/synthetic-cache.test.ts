import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCifar10Directory } from './cifar-dir.js';
import { ensureSyntheticCifar10 } from './synthetic-cache.js';

const root = mkdtempSync(join(tmpdir(), 'flowprune-synthetic-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the first call writes a CIFAR-10 directory of the asked sizes; the second finds it and writes nothing', () => {
  const o = { dataDir: root, trainPerClass: 2, testPerClass: 1, seed: 3 };
  const dir = ensureSyntheticCifar10(o);
  const ds = readCifar10Directory(dir);
  assert.equal(ds.train.count, 20);
  assert.equal(ds.test.count, 10);
  const written = statSync(join(dir, 'test_batch.bin')).mtimeMs;
  assert.equal(ensureSyntheticCifar10(o), dir);
  assert.equal(statSync(join(dir, 'test_batch.bin')).mtimeMs, written, 'not regenerated');
});

test('another seed or size is another directory', () => {
  const a = ensureSyntheticCifar10({ dataDir: root, trainPerClass: 2, testPerClass: 1, seed: 0 });
  assert.notEqual(ensureSyntheticCifar10({ dataDir: root, trainPerClass: 2, testPerClass: 1, seed: 1 }), a);
  assert.notEqual(ensureSyntheticCifar10({ dataDir: root, trainPerClass: 3, testPerClass: 1, seed: 0 }), a);
});
