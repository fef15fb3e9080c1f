#!/usr/bin/env node
// Regenerates the TypeScript of our schemas with buf + ts-proto, one run per buf.gen*.yaml template:
// buf.gen.yaml (proto/ → libs/proto/src/gen, the gRPC contracts) and buf.gen.onnx.yaml
// (proto-vendor/ → libs/onnx/src/gen, the ONNX file format). Each template's plugin `out` folders
// are emptied first. `--base DIR` generates under DIR instead (buf's --output), which the staleness
// test compares against the committed code.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const baseFlag = process.argv.indexOf('--base');
const base = baseFlag > 0 ? resolve(process.argv[baseFlag + 1]) : root;
const buf = join(dirname(createRequire(import.meta.url).resolve('@bufbuild/buf/package.json')), 'bin', 'buf');

for (const template of readdirSync(root).filter((n) => /^buf\.gen.*\.yaml$/.test(n)).sort()) {
  for (const plugin of parse(readFileSync(join(root, template), 'utf8')).plugins) rmSync(join(base, plugin.out), { recursive: true, force: true });
  const res = spawnSync(buf, ['generate', '--template', template, '--output', base], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
