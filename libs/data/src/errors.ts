// One error type for every data-loading failure, carrying where it happened (file, byte offset,
// field) so callers and tests can check the location without parsing the message.

export interface DataErrorLocation {
  /** File path (or a `<...>` pseudo-name for in-memory input) the problem was found in. */
  file: string;
  /** Byte offset inside `file` where the offending data starts, when it is a byte-level problem. */
  offset?: number;
  /** Record index inside `file`, for per-record problems. */
  record?: number;
  /** Name of the offending field (e.g. `label`, `coarseLabel`, `size`, `perClass`). */
  field?: string;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  readonly file: string;
  readonly offset?: number;
  readonly record?: number;
  readonly field?: string;

  constructor(message: string, location: DataErrorLocation) {
    super(message);
    this.file = location.file;
    this.offset = location.offset;
    this.record = location.record;
    this.field = location.field;
  }
}

/** Pseudo file name used when the input was a buffer rather than a path. */
export const IN_MEMORY = '<in-memory buffer>';
