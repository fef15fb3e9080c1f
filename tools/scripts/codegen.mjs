#!/usr/bin/env node
// Regenerates libs/proto/src/gen from proto/ with buf + ts-proto, as buf.gen.yaml says.
// `--base DIR` generates under DIR instead (buf's --output), which the staleness test compares
// against the committed code.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GENERATED_DIR = 'libs/proto/src/gen';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const baseFlag = process.argv.indexOf('--base');
const base = baseFlag > 0 ? resolve(process.argv[baseFlag + 1]) : root;
const buf = join(dirname(createRequire(import.meta.url).resolve('@bufbuild/buf/package.json')), 'bin', 'buf');

rmSync(join(base, GENERATED_DIR), { recursive: true, force: true });
const res = spawnSync(buf, ['generate', '--template', 'buf.gen.yaml', '--output', base], { cwd: root, stdio: 'inherit' });
process.exit(res.status ?? 1);
