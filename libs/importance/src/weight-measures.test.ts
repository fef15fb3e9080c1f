import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '@flowprune/tensor';
import { Model } from '@flowprune/models';
import { getMeasure } from './registry.js';

const FIXTURES = resolve(process.env.FLOWPRUNE_FIXTURES ?? join(import.meta.dirname, '../../../../shared/fixtures/importance'));
const present = existsSync(join(FIXTURES, 'README.md'));

before(async () => {
  await initBackend();
});

/** max over layers of max_i |a − e| / max_i |e| (the fixtures' comparison metric). */
function layerRelError(a: number[][], e: number[][]): number {
  let worst = 0;
  e.forEach((ev, l) => {
    const scale = Math.max(...ev.map(Math.abs));
    const diff = Math.max(...ev.map((x, i) => Math.abs(a[l][i] - x)));
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  });
  return worst;
}

for (const arch of ['vgg13', 'resnet56', 'mobilenet_v1']) {
  test(`${arch}: weight-only measures equal the fixture values`, { skip: !present && 'no fixtures' }, async () => {
    const e = JSON.parse(readFileSync(join(FIXTURES, arch, 'expected.json'), 'utf8')) as { num_classes: number; measures: Record<string, number[][]> };
    const model = Model.fromSafeTensors(new Uint8Array(readFileSync(join(FIXTURES, arch, 'weights.safetensors'))), { arch, numClasses: e.num_classes });
    for (const name of ['mag_based', 'l1', 'bn']) {
      const got = await getMeasure(name).compute({ model, params: {} });
      const rel = layerRelError(got, e.measures[name]);
      assert.ok(rel <= 1e-6, `${arch} ${name}: rel ${rel}`);
    }
    model.dispose();
  });
}
