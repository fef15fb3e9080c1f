// The suites' measurements run in worker processes (a process has one tfjs backend, and a wasm
// heap that only grows); each worker prints its records as JSON lines on stdout.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE } from './paths.js';

/** Runs tools/bench/src/<script> on `backend` with args; its JSON lines, or the last line of its stderr. */
export function runBenchWorker<T>(script: string, args: string[], backend: string): T[] | { error: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(WORKSPACE, 'tools/bench/src', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: { ...process.env, FLOWPRUNE_BACKEND: backend, TSX_TSCONFIG_PATH: join(WORKSPACE, 'tsconfig.json') },
  });
  const records = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
  if (r.status !== 0 || records.length === 0) {
    const why = (r.stderr ?? '').trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.status ?? r.signal}`;
    return { error: why.slice(0, 200) };
  }
  return records;
}
