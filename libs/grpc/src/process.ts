import type { ServiceBinding, StartedServer } from './server.js';
import { startServer } from './server.js';
import { plaintextBindWarning } from './bind.js';
import type { TlsMaterial } from './tls.js';
import { rpcDefaults } from './rpc-defaults.js';
import { flushTelemetry } from './telemetry.js';

/** Message a service sends its parent (over IPC) once it listens. */
export interface ListeningMessage {
  type: 'listening';
  service: string;
  address: string;
  pid: number;
}

export interface ServiceMainOptions {
  /** Short name used in logs, e.g. "evaluator". */
  name: string;
  address: string;
  services: ServiceBinding[];
  /** Largest message in either direction (default DEFAULT_MAX_MESSAGE_BYTES); see message-limit.ts. */
  maxMessageBytes?: number;
  /** TLS (mTLS) material for the server; null or absent: plaintext (warned about off loopback). */
  tls?: TlsMaterial | null;
  /** Called on SIGTERM before the server drains (e.g. stop long-running work so streams end). */
  beforeShutdown?: () => Promise<void>;
}

/**
 * Runs a service process: listen, announce the bound address (stdout line + IPC message),
 * and on SIGTERM/SIGINT stop accepting calls, drain in-flight ones, flush telemetry, and exit 0.
 */
export async function runServiceProcess(opts: ServiceMainOptions): Promise<StartedServer> {
  const started = await startServer({ address: opts.address, services: opts.services, maxMessageBytes: opts.maxMessageBytes, tls: opts.tls });
  const warning = plaintextBindWarning(`flowprune-${opts.name}`, started.address, Boolean(opts.tls));
  if (warning) console.error(warning);
  const msg: ListeningMessage = { type: 'listening', service: opts.name, address: started.address, pid: process.pid };
  console.log(`flowprune-${opts.name} listening on ${started.address} (pid ${process.pid})`);
  process.send?.(msg);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`flowprune-${opts.name}: ${signal}, draining`);
    Promise.resolve(opts.beforeShutdown?.())
      .then(() => started.shutdown(rpcDefaults().drainGraceMs))
      .then(() => flushTelemetry())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A parent that dies takes its children with it (IPC channel closes).
  process.on('disconnect', () => stop('parent gone'));
  return started;
}
