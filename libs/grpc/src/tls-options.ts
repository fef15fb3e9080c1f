// The --tls-* flags every service and the CLI take, defaulting to FLOWPRUNE_TLS_* so that a whole
// stack is configured once: child processes inherit the environment.
import { Option, type Command } from 'commander';
import { loadTls, serverCredentials, TlsConfigError, type TlsMaterial, type TlsSettings } from './tls.js';

const TLS_ENV = {
  cert: 'FLOWPRUNE_TLS_CERT',
  key: 'FLOWPRUNE_TLS_KEY',
  ca: 'FLOWPRUNE_TLS_CA',
  clientAuth: 'FLOWPRUNE_TLS_CLIENT_AUTH',
  serverName: 'FLOWPRUNE_TLS_SERVER_NAME',
} as const;

const truthy = (v: string | undefined): boolean => ['1', 'true', 'yes', 'on'].includes((v ?? '').trim().toLowerCase());

/** The settings the FLOWPRUNE_TLS_* variables give. */
export function tlsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsSettings {
  return {
    cert: env[TLS_ENV.cert] || undefined,
    key: env[TLS_ENV.key] || undefined,
    ca: env[TLS_ENV.ca] || undefined,
    clientAuth: truthy(env[TLS_ENV.clientAuth]),
    serverName: env[TLS_ENV.serverName] || undefined,
  };
}

/** The FLOWPRUNE_TLS_* variables that carry `s` to child processes (unset ones are cleared). */
export function tlsEnv(s: TlsSettings): Record<string, string> {
  return {
    [TLS_ENV.cert]: s.cert ?? '',
    [TLS_ENV.key]: s.key ?? '',
    [TLS_ENV.ca]: s.ca ?? '',
    [TLS_ENV.clientAuth]: s.clientAuth ? 'true' : '',
    [TLS_ENV.serverName]: s.serverName ?? '',
  };
}

export interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth?: boolean;
  tlsServerName?: string;
}

/** Adds --tls-cert/--tls-key/--tls-ca/--tls-client-auth/--tls-server-name (defaults from the environment). */
export function addTlsOptions<C extends Command>(cmd: C, env: NodeJS.ProcessEnv = process.env): C {
  const d = tlsSettingsFromEnv(env);
  cmd.addOption(new Option('--tls-cert <file>', `PEM certificate (chain) of this process: serves TLS, and is presented to TLS servers [${TLS_ENV.cert}]`).default(d.cert));
  cmd.addOption(new Option('--tls-key <file>', `PEM private key of --tls-cert [${TLS_ENV.key}]`).default(d.key));
  cmd.addOption(new Option('--tls-ca <file>', `PEM CA certificate(s) that servers (and, with --tls-client-auth, clients) must chain to [${TLS_ENV.ca}]`).default(d.ca));
  cmd.addOption(new Option('--tls-client-auth', `servers: require client certificates signed by --tls-ca (mutual TLS) [${TLS_ENV.clientAuth}]`).default(d.clientAuth));
  cmd.addOption(new Option('--tls-server-name <name>', `clients: name to verify in server certificates instead of the address's host [${TLS_ENV.serverName}]`).default(d.serverName));
  return cmd;
}

export function tlsSettingsFromFlags(f: TlsFlags): TlsSettings {
  return { cert: f.tlsCert, key: f.tlsKey, ca: f.tlsCa, clientAuth: Boolean(f.tlsClientAuth), serverName: f.tlsServerName };
}

/** A service's TLS material from its flags; a bad setting ends the process with a one-line reason. */
export function serviceTls(processName: string, f: TlsFlags): TlsMaterial | null {
  try {
    const tls = loadTls(tlsSettingsFromFlags(f));
    serverCredentials(tls); // a CA alone makes a client, not a server: say so now, in one line
    return tls;
  } catch (e) {
    if (!(e instanceof TlsConfigError)) throw e;
    console.error(`${processName}: ${e.message}`);
    process.exit(2);
  }
}

let fromEnv: { key: string; tls: TlsMaterial | null } | undefined;

/** TLS material of the FLOWPRUNE_TLS_* variables, read once per distinct setting (clients' default). */
export function environmentTls(env: NodeJS.ProcessEnv = process.env): TlsMaterial | null {
  const s = tlsSettingsFromEnv(env);
  const key = JSON.stringify(s);
  if (fromEnv?.key !== key) fromEnv = { key, tls: loadTls(s) };
  return fromEnv.tls;
}
