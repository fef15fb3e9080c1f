import { join } from 'node:path';
import { Option } from 'commander';
import { redactUri } from '@flowprune/common';
import { openRunStore, type RunStore } from '@flowprune/store';
import { WORKSPACE } from './paths.js';

/** --store: a directory (embedded store, default ./runs of the workspace) or a mongodb:// URI. */
const DEFAULT_STORE = process.env.FLOWPRUNE_STORE ?? join(WORKSPACE, 'runs');

/** The --store option with the CLI's default; a MongoDB URI's password is masked in --help. */
export function storeOption(description: string, fallback: string = DEFAULT_STORE): Option {
  return new Option('--store <dir|mongodb-uri>', description).default(fallback, JSON.stringify(redactUri(fallback)));
}

export function storeFrom(location: string | undefined): RunStore {
  return openRunStore(location ?? DEFAULT_STORE);
}

/** Closes a MongoDB client so the CLI can exit; the file store holds nothing open. */
export async function closeStore(store: RunStore): Promise<void> {
  const closable = store as RunStore & { close?: () => Promise<void> };
  await closable.close?.();
}
