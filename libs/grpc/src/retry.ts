// Retries of idempotent calls to a dependency: exponential backoff with jitter while it is
// unreachable, and a clear error naming it once it has stayed down past the policy's limit.
import { status } from '@grpc/grpc-js';
import { isServiceError } from './errors.js';

export interface RetryPolicy {
  /** Give up once the dependency has failed for this long without a success in between. */
  dependencyTimeoutMs: number;
  /** First backoff; each further one is `multiplier` times longer, up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
  /** Fraction of each backoff drawn at random (0 = none, 1 = anywhere in [0, backoff]). */
  jitter: number;
}

/** Time source and sleep, injectable so tests run on a fake clock. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Who we are calling, for error messages: a role ("data-loader") and its host:port. */
export interface Dependency {
  name: string;
  address: string;
}

export interface RetryOptions {
  dependency: Dependency;
  policy: RetryPolicy;
  /** Only idempotent calls are retried on DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED. */
  idempotent: boolean;
  clock?: Clock;
  random?: () => number;
  /** Told before each wait (logs). */
  onRetry?: (info: { dependency: Dependency; attempt: number; delayMs: number; error: unknown }) => void;
  /** True once the caller no longer wants the result (e.g. a run stopping): no further attempt. */
  shouldStop?: () => boolean;
}

/** The dependency stayed unreachable past the policy's limit. Looks like a gRPC status (UNAVAILABLE). */
export class DependencyUnavailableError extends Error {
  readonly code = status.UNAVAILABLE;
  readonly details: string;
  constructor(
    readonly dependency: Dependency,
    readonly waitedMs: number,
    readonly lastError: unknown,
  ) {
    const last = isServiceError(lastError) ? `${status[lastError.code]}: ${lastError.details}` : String((lastError as Error)?.message ?? lastError);
    const message =
      `${dependency.name} at ${dependency.address} unreachable for ${Math.round(waitedMs / 1000)} s (last error ${last}); ` +
      `start it again (or fix its address)`;
    super(message);
    this.name = 'DependencyUnavailableError';
    this.details = message;
  }
}

/** Oversized messages are RESOURCE_EXHAUSTED too, but sending them again cannot help. */
const TOO_LARGE = /larger than max|exceeds? (the )?max/i;

export function isRetryable(err: unknown, idempotent: boolean): boolean {
  if (err instanceof DependencyUnavailableError) return false; // already waited (nested retries)
  if (!isServiceError(err)) return false;
  if (err.code === status.UNAVAILABLE) return true;
  if (!idempotent) return false;
  if (err.code === status.DEADLINE_EXCEEDED) return true;
  return err.code === status.RESOURCE_EXHAUSTED && !TOO_LARGE.test(err.details ?? '');
}

/**
 * Backoff state for one logical call (or one stream across its reconnects): `failed` waits before
 * the next attempt or throws once the dependency has been failing past the limit; `succeeded`
 * (any message or reply) resets it.
 */
export class Backoff {
  private failingSince?: number;
  private attempt = 0;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: RetryOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  succeeded(): void {
    this.failingSince = undefined;
    this.attempt = 0;
  }

  /** Rethrows what is not retryable; else waits, or throws DependencyUnavailableError past the limit. */
  async failed(error: unknown): Promise<void> {
    if (!isRetryable(error, this.opts.idempotent) || this.opts.shouldStop?.()) throw error;
    const { policy } = this.opts;
    const now = this.clock.now();
    this.failingSince ??= now;
    const waited = now - this.failingSince;
    if (waited >= policy.dependencyTimeoutMs) throw new DependencyUnavailableError(this.opts.dependency, waited, error);
    const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** this.attempt);
    // The last wait is cut short so that one more attempt falls right at the limit.
    const delayMs = Math.min(Math.round(base * (1 - policy.jitter * this.random())), policy.dependencyTimeoutMs - waited);
    this.attempt++;
    this.opts.onRetry?.({ dependency: this.opts.dependency, attempt: this.attempt, delayMs, error });
    await this.clock.sleep(delayMs);
    if (this.opts.shouldStop?.()) throw error;
  }
}

/** Runs `op` until it succeeds, retrying per `opts` (see Backoff). */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const backoff = new Backoff(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      await backoff.failed(err);
    }
  }
}
