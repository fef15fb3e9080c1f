import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** A gRPC status to send back: the code plus a message that names the field and the fix. */
export class RpcError extends Error implements Partial<ServiceError> {
  constructor(
    readonly code: status,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidArgument = (field: string, message: string): RpcError =>
  new RpcError(status.INVALID_ARGUMENT, `${field}: ${message}`, field);
export const notFound = (message: string): RpcError => new RpcError(status.NOT_FOUND, message);
export const failedPrecondition = (message: string): RpcError => new RpcError(status.FAILED_PRECONDITION, message);
export const resourceExhausted = (message: string): RpcError => new RpcError(status.RESOURCE_EXHAUSTED, message);

/** Errors the libs throw carry a `kind` so services can map them without knowing each class. */
interface KindedError {
  kind?: string;
  message: string;
}

/** Maps anything thrown inside a handler to a gRPC ServiceError (never a crash of the server). */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof RpcError) return { code: err.code, details: err.message, metadata: new Metadata() };
  // A status from a service we called: pass its code and words on.
  if (isServiceError(err)) return { code: err.code, details: err.details, metadata: new Metadata() };
  const e = err as KindedError & { name?: string; code?: unknown };
  const message = e?.message ?? String(err);
  // Store errors carry string codes.
  const stringCode = typeof e?.code === 'string' ? e.code : '';
  const code =
    e?.kind === 'invalid-argument' || stringCode === 'invalid_id' || stringCode === 'invalid_argument'
      ? status.INVALID_ARGUMENT
      : stringCode === 'not_found'
        ? status.NOT_FOUND
        : e?.kind === 'invalid-argument'
      ? status.INVALID_ARGUMENT
      : e?.kind === 'not-found'
        ? status.NOT_FOUND
        : // A dataset file linked out of its root: the server refuses to read it.
          e?.kind === 'permission-denied'
          ? status.PERMISSION_DENIED
        : // Dataset files are the server's state, not the caller's input.
          e?.kind === 'data' || e?.name === 'DataError'
          ? status.FAILED_PRECONDITION
          : status.INTERNAL;
  return { code, details: message, metadata: new Metadata() };
}

/** True when a client-side error is a gRPC status (rather than a local failure). */
export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}
