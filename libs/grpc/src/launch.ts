import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ListeningMessage } from './process.js';
import { drainGraceMsIn } from './rpc-defaults.js';

export interface LaunchedService {
  name: string;
  address: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, then wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface LaunchOptions {
  name: string;
  /** Entry module of the service (a .ts file, run through tsx). */
  entry: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where the child's stdout/stderr go: inherited, or collected into `onOutput`. */
  onOutput?: (line: string) => void;
  startTimeoutMs?: number;
  /** Listen address (default 127.0.0.1:0, a free port); a fixed one lets a restarted service take its old port. */
  address?: string;
}

const WORKSPACE_TSCONFIG = join(import.meta.dirname, '../../../tsconfig.json');

/** Starts a service as a child process (on a free port unless `address` says) and resolves once it listens. */
export function launchService(opts: LaunchOptions): Promise<LaunchedService> {
  const child = fork(opts.entry, ['--address', opts.address ?? '127.0.0.1:0', ...(opts.args ?? [])], {
    execArgv: ['--import', 'tsx'],
    // tsx resolves the @flowprune/* path aliases from the workspace tsconfig, wherever we run from.
    env: { TSX_TSCONFIG_PATH: WORKSPACE_TSCONFIG, ...process.env, ...opts.env },
    stdio: opts.onOutput ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (opts.onOutput) {
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) opts.onOutput?.(`[${opts.name}] ${line}`);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<LaunchedService>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.name} did not start listening within ${opts.startTimeoutMs ?? 60_000} ms`));
    }, opts.startTimeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited with code ${code} before listening`));
    });
    child.on('message', (m: ListeningMessage) => {
      if (m?.type !== 'listening') return;
      clearTimeout(timer);
      resolve({
        name: opts.name,
        address: m.address,
        pid: m.pid,
        child,
        // The child drains for up to its own grace (from the environment it was given): SIGKILL
        // only after that, or a slow but clean drain would read as a crash.
        stop: async (graceMs = drainGraceMsIn({ ...process.env, ...opts.env }) + 5_000) => {
          if (child.exitCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    });
  });
}
