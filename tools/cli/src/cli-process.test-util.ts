// The flowprune CLI as a child process, for tests that compare two of its runs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');

/** Runs `flowprune <args>` (stdout discarded) and resolves with its exit code and stderr. */
export function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => done({ code, stderr }));
  });
}
