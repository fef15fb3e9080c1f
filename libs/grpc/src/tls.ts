// TLS and mutual TLS for flowprune's servers and clients, from PEM files. Every file is read and
// checked once, at start-up, so a wrong path or a key that does not belong to its certificate is a
// start-up error naming the option and the file, not a handshake failure at the first call.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credentials, ServerCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';

/** Where the PEM files are (what --tls-* flags or FLOWPRUNE_TLS_* variables say). */
export interface TlsSettings {
  /** This process's certificate (chain): the server certificate, and the client certificate it presents. */
  cert?: string;
  /** Private key of `cert`. */
  key?: string;
  /** CA certificate(s) peers must chain to: servers' certificates, and clients' under `clientAuth`. */
  ca?: string;
  /** Servers: require a client certificate signed by `ca` (mutual TLS). */
  clientAuth?: boolean;
  /** Clients: the name to verify in the server certificate instead of the address's host. */
  serverName?: string;
}

/** The loaded material; `null` stands for plaintext (no TLS configured). */
export interface TlsMaterial {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  clientAuth: boolean;
  serverName?: string;
}

/** The flag and variable behind each setting, for error messages. */
const TLS_SOURCES = {
  cert: '--tls-cert (FLOWPRUNE_TLS_CERT)',
  key: '--tls-key (FLOWPRUNE_TLS_KEY)',
  ca: '--tls-ca (FLOWPRUNE_TLS_CA)',
  clientAuth: '--tls-client-auth (FLOWPRUNE_TLS_CLIENT_AUTH)',
  serverName: '--tls-server-name (FLOWPRUNE_TLS_SERVER_NAME)',
} as const;

export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

function readPem(which: 'cert' | 'key' | 'ca', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new TlsConfigError(`${TLS_SOURCES[which]}: cannot read ${path} (${code})`);
  }
}

function parseCert(which: 'cert' | 'ca', path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsConfigError(`${TLS_SOURCES[which]}: ${path} is not a PEM certificate`);
  }
}

/** Reads and checks the files; `null` when no TLS setting is given (plaintext). */
export function loadTls(s: TlsSettings): TlsMaterial | null {
  if (!s.cert && !s.key && !s.ca && !s.clientAuth) return null;
  if (Boolean(s.cert) !== Boolean(s.key))
    throw new TlsConfigError(`${s.cert ? TLS_SOURCES.key : TLS_SOURCES.cert} is required with ${s.cert ? TLS_SOURCES.cert : TLS_SOURCES.key}`);
  if (s.clientAuth && !s.ca) throw new TlsConfigError(`${TLS_SOURCES.clientAuth} needs ${TLS_SOURCES.ca}: the CA that signs client certificates`);
  const out: TlsMaterial = { clientAuth: Boolean(s.clientAuth), serverName: s.serverName || undefined };
  if (s.ca) {
    out.ca = readPem('ca', s.ca);
    parseCert('ca', s.ca, out.ca);
  }
  if (s.cert && s.key) {
    out.cert = readPem('cert', s.cert);
    out.key = readPem('key', s.key);
    const cert = parseCert('cert', s.cert, out.cert);
    let key;
    try {
      key = createPrivateKey(out.key);
    } catch {
      // Never echo the key file's contents, only its path.
      throw new TlsConfigError(`${TLS_SOURCES.key}: ${s.key} is not a PEM private key (or it is encrypted; give an unencrypted key)`);
    }
    if (!cert.checkPrivateKey(key)) throw new TlsConfigError(`${TLS_SOURCES.key}: ${s.key} is not the private key of the certificate ${s.cert}`);
  }
  return out;
}

/** Server credentials: plaintext without TLS; with it, the server certificate and, under clientAuth, mTLS. */
export function serverCredentials(tls: TlsMaterial | null): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (!tls.cert || !tls.key)
    throw new TlsConfigError(`a TLS server needs ${TLS_SOURCES.cert} and ${TLS_SOURCES.key} (only ${TLS_SOURCES.ca} or ${TLS_SOURCES.clientAuth} is set)`);
  return ServerCredentials.createSsl(tls.ca ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientAuth);
}

/** Channel credentials and options: the CA to trust (else the system's), the client certificate if any. */
export function channelCredentials(tls: TlsMaterial | null): { credentials: ChannelCredentials; options: ChannelOptions } {
  if (!tls) return { credentials: credentials.createInsecure(), options: {} };
  const options: ChannelOptions = tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
  return { credentials: credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null), options };
}
