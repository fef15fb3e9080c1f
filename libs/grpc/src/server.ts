import { Server, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { serverCredentials, type TlsMaterial } from './tls.js';
import { guardRequestDecoding } from './malformed-requests.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface ServiceBinding {
  /** Fully-qualified name for grpc.health.v1, e.g. "flowprune.v1.EvaluatorService". */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface StartedServer {
  server: Server;
  /** host:port actually bound (port 0 resolves to a free port). */
  address: string;
  port: number;
  health: HealthImplementation;
  /** Stops accepting calls, lets in-flight ones finish (up to `graceMs`), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

export interface StartServerOptions {
  address: string;
  services: ServiceBinding[];
  maxMessageBytes?: number;
  /** TLS (and mTLS) material; plaintext when absent or null. */
  tls?: TlsMaterial | null;
}

/** Starts a grpc-js server with the given services and grpc.health.v1 reporting SERVING. */
export async function startServer(opts: StartServerOptions): Promise<StartedServer> {
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  for (const s of opts.services) {
    const guarded = guardRequestDecoding(s.definition, s.implementation);
    server.addService(guarded.definition, guarded.implementation);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.address, serverCredentials(opts.tls ?? null), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = opts.address.slice(0, opts.address.lastIndexOf(':'));
  health.setStatus('', 'SERVING');
  for (const s of opts.services) health.setStatus(s.name, 'SERVING');

  let closing: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      health.setStatus('', 'NOT_SERVING');
      for (const s of opts.services) health.setStatus(s.name, 'NOT_SERVING');
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };
  return { server, address: `${host}:${port}`, port, health, shutdown };
}
