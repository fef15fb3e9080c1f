import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from './errors.js';
import { activeRpcSpan, STREAM_ATTRIBUTES } from './telemetry.js';

/** Adapts an async function to a grpc-js unary handler; thrown errors become statuses. */
export function unary<Req, Res>(fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

/** Waits for the transport to take more, or for the caller to leave (a cancelled call never drains). */
function drainedOrCancelled<Req, Res>(call: ServerWritableStream<Req, Res>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

/**
 * Adapts an async generator to a server-streaming handler, with flow control: when the
 * transport's buffer is full we wait for 'drain' before producing the next message. The call's
 * span is marked as a stream and records how long the generator took to produce its messages and
 * how long it waited for the client to drain them (which of the two sides held the stream back).
 */
export function serverStream<Req, Res>(fn: (req: Req, call: ServerWritableStream<Req, Res>) => AsyncIterable<Res>) {
  return (call: ServerWritableStream<Req, Res>): void => {
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    const span = activeRpcSpan();
    span?.setAttribute(STREAM_ATTRIBUTES.streaming, true);
    let produceMs = 0;
    let waitMs = 0;
    let messages = 0;
    const record = () =>
      span?.setAttributes({
        [STREAM_ATTRIBUTES.produce]: produceMs / 1000,
        [STREAM_ATTRIBUTES.backpressure]: waitMs / 1000,
        [STREAM_ATTRIBUTES.messages]: messages,
      });
    (async () => {
      const it = fn(call.request, call)[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          const t0 = performance.now();
          const next = await it.next();
          produceMs += performance.now() - t0;
          if (next.done) {
            finished = true;
            break;
          }
          if (cancelled) return;
          messages++;
          // Backpressure: never more than the stream's buffer ahead of what HTTP/2 has sent.
          if (!call.write(next.value)) {
            const t1 = performance.now();
            await drainedOrCancelled(call);
            waitMs += performance.now() - t1;
          }
          record(); // each time: a cancelled call's span ends before this loop learns of it
        }
      } finally {
        // Like leaving a for-await early: let the generator run its cleanup.
        if (!finished) await it.return?.();
      }
      record();
      call.end();
    })().catch((err: unknown) => {
      // grpc-js sends a stream's error status from an 'error' event (destroy() would skip it).
      if (!cancelled) call.emit('error', toServiceError(err));
    });
  };
}
