// Services listen on 127.0.0.1 unless told otherwise; one that listens beyond this machine without
// TLS says so, since anyone who can reach the port can then read and send its traffic.
import { isIP } from 'node:net';

/** The host part of host:port, without IPv6 brackets. */
function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackAddress(address: string): boolean {
  const host = hostOf(address).toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host.startsWith('::ffff:127.');
}

/** The warning a plaintext service bound to `address` prints, or undefined when it needs none. */
export function plaintextBindWarning(processName: string, address: string, tls: boolean): string | undefined {
  if (tls || isLoopbackAddress(address)) return undefined;
  return (
    `${processName}: warning: listening on ${address} without TLS: anyone who can reach this port can call the service ` +
    `and read its traffic. Pass --tls-cert/--tls-key (and --tls-ca --tls-client-auth for mutual TLS), or bind 127.0.0.1.`
  );
}
