// PyTorch as the benchmarks' reference: finds a Python with torch and runs tools/bench/*.py, which
// print one JSON object per line.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE } from './paths.js';

export interface TorchPython {
  python: string;
  version: string;
}

let found: TorchPython | { reason: string } | undefined;

/** The first of python3 (PATH), /usr/bin/python3 that imports torch; memoised. */
export function findTorchPython(): TorchPython | { reason: string } {
  if (found) return found;
  const tried: string[] = [];
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return (found = { python, version: r.stdout.trim() });
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`)}`);
  }
  return (found = { reason: `no python3 with torch (${tried.join('; ')})` });
}

/** Runs tools/bench/<script> with args; returns its JSON lines, or throws with its stderr. */
export function runTorchScript<T>(py: TorchPython, script: string, args: string[]): T[] {
  const r = spawnSync(py.python, [join(WORKSPACE, 'tools/bench', script), ...args], {
    encoding: 'utf8',
    cwd: join(WORKSPACE, 'tools/bench'),
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}
