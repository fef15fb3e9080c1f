import { FileRunStore } from './file-run-store.js';
import { MongoRunStore } from './mongo-run-store.js';
import type { RunStore } from './run-store.js';

/** A MongoDB connection string (a team store) rather than a directory. */
export function isMongoUri(location: string): boolean {
  return /^mongodb(\+srv)?:\/\//.test(location);
}

/**
 * The store a service or the CLI was pointed at: a mongodb:// URI (team store) or a directory (the
 * embedded default, `runs/`). Services take it as --store or FLOWPRUNE_STORE.
 */
export function openRunStore(location: string): RunStore {
  if (isMongoUri(location)) return new MongoRunStore({ uri: location });
  return new FileRunStore({ root: location });
}
