#!/usr/bin/env node
// Regenerates the TypeScript of our schemas with buf + ts-proto: libs/proto/src/gen from proto/
// (buf.gen.yaml, the gRPC contracts) and libs/onnx/src/gen from proto-vendor/ (buf.gen.onnx.yaml,
// the ONNX file format). `--base DIR` generates under DIR instead (buf's --output), which the
// staleness test compares against the committed code.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each buf template and the folder it generates (its plugin's `out`). */
export const TEMPLATES = [
  { template: 'buf.gen.yaml', out: 'libs/proto/src/gen' },
  { template: 'buf.gen.onnx.yaml', out: 'libs/onnx/src/gen' },
];
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const baseFlag = process.argv.indexOf('--base');
const base = baseFlag > 0 ? resolve(process.argv[baseFlag + 1]) : root;
const buf = join(dirname(createRequire(import.meta.url).resolve('@bufbuild/buf/package.json')), 'bin', 'buf');

if (fileURLToPath(import.meta.url) === resolve(process.argv[1] ?? '')) {
  for (const { template, out } of TEMPLATES) {
    rmSync(join(base, out), { recursive: true, force: true });
    const res = spawnSync(buf, ['generate', '--template', template, '--output', base], { cwd: root, stdio: 'inherit' });
    if (res.status !== 0) process.exit(res.status ?? 1);
  }
}
