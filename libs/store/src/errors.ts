// Typed store failures, so callers (and the gRPC layer) can map them to status codes without
// matching on message text.

// `fenced`: a write carried a lease token that is no longer the run's (another trainer took it over).
// `conflict`: the run is not in a state that allows the change (e.g. resuming a completed run).
export type StoreErrorCode = 'invalid_id' | 'invalid_argument' | 'not_found' | 'lock_timeout' | 'corrupt' | 'fenced' | 'conflict';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** File or resource the error is about, when there is one. */
  readonly path?: string;

  constructor(code: StoreErrorCode, message: string, path?: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

export function runNotFound(id: string): StoreError {
  return new StoreError('not_found', `run ${id} not found`);
}
