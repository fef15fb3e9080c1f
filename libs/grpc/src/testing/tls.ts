// Test certificates made at test time with the openssl CLI (nothing secret is checked in): a CA, a
// server/peer certificate for 127.0.0.1 and localhost, a client certificate, and a rogue CA with a
// client and a server certificate of its own. P-256 keys keep generation fast.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir as tempDir } from '../scratch-dir.js';

export interface TestPki {
  dir: string;
  ca: string;
  /** Peer certificate for 127.0.0.1/localhost, usable as server and as client certificate. */
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** A second, untrusted CA and certificates it signed. */
  rogueCa: string;
  rogueClient: { cert: string; key: string };
  rogueServer: { cert: string; key: string };
  /** Signed by the real CA, but only for DNS name flowprune.internal (for the server-name override). */
  namedServer: { cert: string; key: string };
}

/** Why TLS tests cannot run here, or undefined when the openssl CLI works. */
export function opensslMissing(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `the openssl CLI is not available (${r.error?.message ?? r.stderr.trim()}); it makes the test certificates`;
}

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, ext: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now()), '-days', '2', '-out', cert, '-extfile', extFile]);
  return { cert, key };
}

/** Generates the whole set into a fresh temporary directory (removed at exit). */
export function makeTestPki(): TestPki {
  const dir = tempDir('pki');
  const ca = makeCa(dir, 'ca');
  const rogue = makeCa(dir, 'rogue-ca');
  const peer = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth';
  return {
    dir,
    ca: ca.cert,
    server: makeLeaf(dir, 'server', ca, peer),
    client: makeLeaf(dir, 'client', ca, 'extendedKeyUsage=clientAuth'),
    rogueCa: rogue.cert,
    rogueClient: makeLeaf(dir, 'rogue-client', rogue, 'extendedKeyUsage=clientAuth'),
    rogueServer: makeLeaf(dir, 'rogue-server', rogue, peer),
    namedServer: makeLeaf(dir, 'named-server', ca, 'subjectAltName=DNS:flowprune.internal\nextendedKeyUsage=serverAuth,clientAuth'),
  };
}
