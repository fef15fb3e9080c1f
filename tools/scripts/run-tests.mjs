#!/usr/bin/env node
// Runs every `*.test.ts` under the given folders (default: libs, services, tools) in Node's own
// test runner, with tsx for TypeScript. One process per file, two at a time (this is a 2-core box).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const skip = new Set(['node_modules', 'dist', '.nx', 'runs', '.git']);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = (roots.length ? roots : ['libs', 'services', 'tools']).flatMap((r) => collect(r, [])).sort();
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.FLOWPRUNE_TEST_CONCURRENCY ?? '2';
// OpenTelemetry is off in tests unless asked for (OTEL_SDK_DISABLED=false); the tracing tests turn
// it on for the processes they start.
// Test files run `concurrency` at a time: one compute thread each for the native backend, so they
// do not oversubscribe the cores (its kernel tests set their own threads to exercise the parallel paths).
const env = {
  ...process.env,
  OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'true',
  FLOWPRUNE_THREADS: process.env.FLOWPRUNE_THREADS ?? (Number(concurrency) > 1 ? '1' : ''),
};
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...passThrough, ...files],
  { stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
