import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from './errors.js';

/** Adapts an async function to a grpc-js unary handler; thrown errors become statuses. */
export function unary<Req, Res>(fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

/**
 * Adapts an async generator to a server-streaming handler, with flow control: when the
 * transport's buffer is full we wait for 'drain' before producing the next message.
 */
export function serverStream<Req, Res>(fn: (req: Req, call: ServerWritableStream<Req, Res>) => AsyncIterable<Res>) {
  return (call: ServerWritableStream<Req, Res>): void => {
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    (async () => {
      for await (const msg of fn(call.request, call)) {
        if (cancelled) return;
        if (!call.write(msg)) await new Promise<void>((resolve) => call.once('drain', () => resolve()));
      }
      call.end();
    })().catch((err: unknown) => {
      // grpc-js sends a stream's error status from an 'error' event (destroy() would skip it).
      if (!cancelled) call.emit('error', toServiceError(err));
    });
  };
}
