// Deadlines and the retry policy every client call uses unless told otherwise. Read once from the
// environment; a service's options (e.g. the trainer's --dependency-timeout) may override them.
import type { Command } from 'commander';
import type { RetryPolicy } from './retry.js';

export interface RpcDefaults {
  /** Deadline of quick unary calls (Describe, ListMeasures, SampleBalanced, Start/Resume/CancelRun). */
  quickDeadlineMs: number;
  /** Deadline of compute calls (Estimate, Evaluate): a GraSP estimate of a big model takes minutes. */
  computeDeadlineMs: number;
  /** Longest wait for the next message of a data stream (StreamBatches) before it is re-opened. */
  streamIdleMs: number;
  /** On SIGTERM, how long in-flight calls may finish before the server closes (below Kubernetes' 30 s grace). */
  drainGraceMs: number;
  retry: RetryPolicy;
}

export const DEPENDENCY_TIMEOUT_ENV = 'FLOWPRUNE_DEPENDENCY_TIMEOUT_S';

/** A positive number of seconds, in ms; `what` (a variable or flag) names it in the error. */
export function positiveSecondsMs(what: string, raw: string): number {
  const v = Number(raw);
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${what} must be a positive number of seconds, got "${raw}"`);
  return v * 1000;
}

const seconds = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback * 1000 : positiveSecondsMs(name, raw);
};

function fromEnv(): RpcDefaults {
  return {
    quickDeadlineMs: seconds('FLOWPRUNE_RPC_DEADLINE_S', 60),
    computeDeadlineMs: seconds('FLOWPRUNE_COMPUTE_DEADLINE_S', 30 * 60),
    streamIdleMs: seconds('FLOWPRUNE_STREAM_IDLE_S', 120),
    drainGraceMs: seconds('FLOWPRUNE_DRAIN_GRACE_S', 25),
    retry: {
      dependencyTimeoutMs: seconds(DEPENDENCY_TIMEOUT_ENV, 180),
      initialBackoffMs: 200,
      maxBackoffMs: 10_000,
      multiplier: 2,
      jitter: 0.5,
    },
  };
}

let current: RpcDefaults | undefined;

export function rpcDefaults(): RpcDefaults {
  current ??= fromEnv();
  return current;
}

/** Overrides some defaults for this process (a service's command-line options). */
export function configureRpcDefaults(over: { dependencyTimeoutMs?: number; streamIdleMs?: number }): void {
  const d = rpcDefaults();
  current = {
    ...d,
    streamIdleMs: over.streamIdleMs ?? d.streamIdleMs,
    retry: { ...d.retry, dependencyTimeoutMs: over.dependencyTimeoutMs ?? d.retry.dependencyTimeoutMs },
  };
}

export interface DependencyTimeoutFlags {
  dependencyTimeout: string;
}

/** --dependency-timeout <s>: how long calls to the services this one uses wait for one that is down. */
export function addDependencyTimeoutOption<C extends Command>(cmd: C): C {
  cmd.option(
    '--dependency-timeout <seconds>',
    `how long to keep retrying a dependency that is down before failing the work that needs it [${DEPENDENCY_TIMEOUT_ENV}]`,
    String(rpcDefaults().retry.dependencyTimeoutMs / 1000),
  );
  return cmd;
}

/** Applies --dependency-timeout to this process's defaults. */
export function applyDependencyTimeout(flags: DependencyTimeoutFlags): void {
  configureRpcDefaults({ dependencyTimeoutMs: positiveSecondsMs('--dependency-timeout', flags.dependencyTimeout) });
}
