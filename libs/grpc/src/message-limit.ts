// The largest message a service accepts or sends, configurable per service (--max-message-mb or
// FLOWPRUNE_MAX_MESSAGE_MB): a request over it is refused by grpc-js with RESOURCE_EXHAUSTED before
// it is buffered whole, so one caller cannot make a service hold gigabytes.
import type { Command } from 'commander';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server.js';

const MAX_MESSAGE_MB_ENV = 'FLOWPRUNE_MAX_MESSAGE_MB';
/** grpc-js keeps message lengths in a signed 32-bit integer. */
const LIMIT_MB = 2047;

/** The --max-message-mb default: the environment's value, else 256 MiB. */
export function defaultMaxMessageMb(env: NodeJS.ProcessEnv = process.env): string {
  return env[MAX_MESSAGE_MB_ENV] ?? String(DEFAULT_MAX_MESSAGE_BYTES / (1024 * 1024));
}

/** MiB (as typed on a command line) → bytes; throws a message naming the option on nonsense. */
export function messageBytesFromMb(text: string): number {
  const mb = Number(text);
  if (!Number.isFinite(mb) || mb <= 0 || mb > LIMIT_MB)
    throw new Error(`--max-message-mb (or ${MAX_MESSAGE_MB_ENV}) must be a number of MiB in (0, ${LIMIT_MB}], got "${text}"`);
  return Math.floor(mb * 1024 * 1024);
}

export interface MessageLimitFlags {
  maxMessageMb: string;
}

/** Adds --max-message-mb to a service's command line (read it back with messageBytesFromMb). */
export function addMessageLimitOption<C extends Command>(cmd: C, env: NodeJS.ProcessEnv = process.env): C {
  cmd.option('--max-message-mb <MiB>', `largest request or response message, in MiB [${MAX_MESSAGE_MB_ENV}]`, defaultMaxMessageMb(env));
  return cmd;
}
