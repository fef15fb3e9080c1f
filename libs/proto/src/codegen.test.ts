import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';

import { parse } from 'yaml';

const root = join(import.meta.dirname, '../../..');
/** The folders the buf.gen*.yaml templates generate (what tools/scripts/codegen.mjs runs). */
const outputs = readdirSync(root)
  .filter((n) => /^buf\.gen.*\.yaml$/.test(n))
  .flatMap((n) => (parse(readFileSync(join(root, n), 'utf8')) as { plugins: { out: string }[] }).plugins.map((p) => p.out))
  .sort();

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('generated code is up to date with proto/ and proto-vendor/ (run `npx nx run proto:codegen`)', () => {
  const base = mkdtempSync(join(tmpdir(), 'flowprune-codegen-'));
  const res = spawnSync(process.execPath, [join(root, 'tools/scripts/codegen.mjs'), '--base', base], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.ok(outputs.includes('libs/onnx/src/gen'), `templates generate ${outputs.join(', ')}`);
  for (const out of outputs) {
    const committed = join(root, out);
    const fresh = join(base, out);
    const names = (d: string) => files(d).map((f) => relative(d, f)).sort();
    assert.deepEqual(names(committed), names(fresh), `${out}: generated file set differs`);
    for (const name of names(fresh)) {
      assert.equal(readFileSync(join(committed, name), 'utf8'), readFileSync(join(fresh, name), 'utf8'), `${out}/${name} is stale`);
    }
  }
});

test('buf lint is clean', () => {
  const res = spawnSync(join(root, 'node_modules/.bin/buf'), ['lint'], { cwd: root, encoding: 'utf8' });
  assert.equal(res.status, 0, `buf lint:\n${res.stdout}${res.stderr}`);
});

// The contract only grows: fields keep their numbers, names and types (buf's FILE rules, buf.yaml),
// checked against the image of the last released contract (tools/scripts/proto-baseline.mjs).
const baseline = join(root, 'libs/proto/baseline/flowprune-v1.binpb');
const breaking = (cwd: string) => spawnSync(join(root, 'node_modules/.bin/buf'), ['breaking', '--against', baseline], { cwd, encoding: 'utf8' });

test('buf breaking: proto/ is backward compatible with the released contract', () => {
  const res = breaking(root);
  assert.equal(res.status, 0, `buf breaking against ${relative(root, baseline)}:\n${res.stdout}${res.stderr}`);
});

test('buf breaking catches a renumbered field (the check can fail)', () => {
  const copy = mkdtempSync(join(tmpdir(), 'flowprune-breaking-'));
  cpSync(join(root, 'proto'), join(copy, 'proto'), { recursive: true });
  cpSync(join(root, 'buf.yaml'), join(copy, 'buf.yaml'));
  const common = join(copy, 'proto/flowprune/v1/common.proto');
  const text = readFileSync(common, 'utf8');
  assert.ok(text.includes('string conv = 2;'), 'LayerScores.conv is field 2');
  writeFileSync(common, text.replace('string conv = 2;', 'string conv = 12;'));
  const res = breaking(copy);
  assert.notEqual(res.status, 0, 'a renumbered field must fail buf breaking');
  assert.match(`${res.stdout}${res.stderr}`, /LayerScores/);
});
