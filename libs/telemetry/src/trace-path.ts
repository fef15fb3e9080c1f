import { join } from 'node:path';

/** Name of a run's trace file inside its run directory. */
export const TRACE_FILE = 'trace.jsonl';

/** `<dir>/<run-id>/trace.jsonl`. */
export function traceFilePath(dir: string, runId: string): string {
  return join(dir, runId, TRACE_FILE);
}
