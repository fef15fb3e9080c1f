#!/usr/bin/env node
// Writes the buf image of proto/ as of a git ref (default: the last released contract) to
// libs/proto/baseline/flowprune-v1.binpb, the baseline `buf breaking` checks the contract against
// (libs/proto/src/codegen.test.ts). Committed because CI's clone may be shallow. After a release:
// `node tools/scripts/proto-baseline.mjs <release commit>` and commit the image.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The contract the baseline was last made from (the release before the estimator manifest). */
export const BASELINE_REF = '03f5f0a';
export const BASELINE_IMAGE = 'libs/proto/baseline/flowprune-v1.binpb';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ref = process.argv[2] ?? BASELINE_REF;
const buf = join(dirname(createRequire(import.meta.url).resolve('@bufbuild/buf/package.json')), 'bin', 'buf');
const work = mkdtempSync(join(tmpdir(), 'flowprune-baseline-'));
try {
  const tar = execFileSync('git', ['archive', '--format=tar', ref, 'proto', 'buf.yaml'], { cwd: root, maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', work], { input: tar });
  mkdirSync(join(root, dirname(BASELINE_IMAGE)), { recursive: true });
  const res = spawnSync(buf, ['build', '-o', join(root, BASELINE_IMAGE)], { cwd: work, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
  console.log(`${BASELINE_IMAGE}: proto/ as of ${ref}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
