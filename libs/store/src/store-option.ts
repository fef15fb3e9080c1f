// The --store option of the services and the CLI. Its default may come from FLOWPRUNE_STORE, a
// MongoDB URI with a password: --help shows it masked (commander would print the value itself).
import { Option } from 'commander';
import { redactUri } from '@flowprune/common';

export function runStoreOption(description: string, fallback: string): Option {
  return new Option('--store <dir|mongodb-uri>', description).default(fallback, JSON.stringify(redactUri(fallback)));
}
