// Idempotent unary calls with a deadline per attempt and retries while the dependency is down.
import { status, type Client } from '@grpc/grpc-js';
import { call, type UnaryMethod } from './client.js';
import { isServiceError } from './errors.js';
import { withRetry, type Clock, type Dependency, type RetryOptions, type RetryPolicy } from './retry.js';
import { rpcDefaults } from './rpc-defaults.js';

/** The dependency a client talks to: its role and the address it was made with. */
export function dependencyOf(client: Client, name: string): Dependency {
  // Channel targets read "dns:host:port" (or another scheme); people configure plain host:port.
  return { name, address: client.getChannel().getTarget().replace(/^dns:(\/\/\/)?/, '') };
}

/** One line on stderr per retry: the operator sees which dependency is missing while we wait. */
export const logRetry: RetryOptions['onRetry'] = ({ dependency, attempt, delayMs, error }) => {
  const why = isServiceError(error) ? `${status[error.code]}: ${error.details}` : String(error);
  process.stderr.write(`flowprune: ${dependency.name} at ${dependency.address}: ${why}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s\n`);
};

export interface ResilientCallOptions {
  /** Role of the dependency in messages, e.g. "evaluator". */
  name: string;
  /** Deadline of each attempt (default: the quick-call deadline). */
  timeoutMs?: number;
  policy?: RetryPolicy;
  clock?: Clock;
  /** Stop retrying once this is true (the work that needs the answer is being stopped). */
  shouldStop?: () => boolean;
}

/**
 * A unary call that is safe to repeat (Describe, ListMeasures, SampleBalanced, Estimate, Evaluate):
 * each attempt has its own deadline; UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are
 * retried with backoff until the dependency has been failing for the policy's limit. Never use it
 * for StartRun, ResumeRun or CancelRun.
 */
export function idempotentCall<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, req: Req, o: ResilientCallOptions): Promise<Res> {
  const d = rpcDefaults();
  return withRetry(() => call(client, method, req, o.timeoutMs ?? d.quickDeadlineMs), {
    dependency: dependencyOf(client, o.name),
    policy: o.policy ?? d.retry,
    idempotent: true,
    clock: o.clock,
    onRetry: logRetry,
    shouldStop: o.shouldStop,
  });
}
