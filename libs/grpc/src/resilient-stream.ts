// Server streams that survive their server's restart: an idle timeout per message (a stream of an
// epoch has no sensible whole-call deadline) and re-opening after a retryable failure.
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { Backoff, type Clock, type Dependency, type RetryOptions, type RetryPolicy } from './retry.js';

/** No message within the idle timeout: reported (and retried) like a deadline. */
class StreamIdleError extends Error {
  readonly code = status.DEADLINE_EXCEEDED;
  readonly details: string;
  constructor(dependency: Dependency, idleMs: number) {
    const message = `no message from ${dependency.name} at ${dependency.address} for ${Math.round(idleMs / 1000)} s`;
    super(message);
    this.name = 'StreamIdleError';
    this.details = message;
  }
}

export interface ResilientStreamOptions {
  dependency: Dependency;
  /** Longest wait for one message (time the consumer spends on a message does not count). */
  idleMs: number;
  policy: RetryPolicy;
  clock?: Clock;
  onRetry?: RetryOptions['onRetry'];
  shouldStop?: () => boolean;
}

/** The next message, or a StreamIdleError (and the stream cancelled) after `idleMs`. */
function nextWithin<T>(it: AsyncIterator<T>, stream: ClientReadableStream<T>, o: ResilientStreamOptions): Promise<IteratorResult<T>> {
  const pending = it.next();
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      pending.catch(() => undefined); // it rejects with CANCELLED now; the idle error is the one to report
      stream.cancel();
      reject(new StreamIdleError(o.dependency, o.idleMs));
    }, o.idleMs);
  });
  return Promise.race([pending, idle]).finally(() => clearTimeout(timer));
}

/**
 * Yields the messages of `open()`; after a retryable failure it waits (backoff) and calls `open()`
 * again, until the dependency has been failing past the policy's limit. Only for idempotent
 * streams: `open` decides where a re-opened stream starts (its closure knows what was consumed).
 */
export async function* resilientStream<T>(open: () => ClientReadableStream<T>, o: ResilientStreamOptions): AsyncGenerator<T> {
  const backoff = new Backoff({ ...o, idempotent: true });
  for (;;) {
    const stream = open();
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<T>;
    let error: unknown;
    try {
      for (;;) {
        let next: IteratorResult<T>;
        try {
          next = await nextWithin(it, stream, o);
        } catch (err) {
          error = err;
          break;
        }
        if (next.done) return;
        backoff.succeeded();
        yield next.value;
      }
    } finally {
      stream.cancel(); // no-op once it ended; frees the server when the consumer stops early
    }
    await backoff.failed(error);
  }
}
