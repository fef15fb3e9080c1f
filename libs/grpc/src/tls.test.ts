// TLS and mutual TLS between a real grpc-js server and clients, with certificates made by openssl
// at test time: who can connect to whom, and what the errors and hints say when they cannot.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { DataLoaderServiceClient, DataLoaderServiceService, type DescribeResponse } from '@flowprune/proto';
import { isLoopbackAddress, plaintextBindWarning } from './bind.js';
import { makeClient } from './client.js';
import { unary } from './handlers.js';
import { startServer, type StartedServer } from './server.js';
import { makeTestPki, opensslMissing, type TestPki } from './testing/index.js';
import { tlsHint } from './tls-hint.js';
import { environmentTls, tlsEnv, tlsSettingsFromEnv } from './tls-options.js';
import { loadTls, serverCredentials, TlsConfigError, type TlsSettings } from './tls.js';

const skip = opensslMissing();
const DESCRIBED: DescribeResponse = {
  name: 'tls',
  format: 'cifar10-binary',
  numClasses: 10,
  classNames: [],
  trainSize: 1,
  testSize: 1,
  height: 32,
  width: 32,
  channels: 3,
  trainClassCounts: [],
  testClassCounts: [],
  conversion: '',
};

let pki: TestPki;
const servers: StartedServer[] = [];

async function serve(tls: TlsSettings | null): Promise<string> {
  const s = await startServer({
    address: '127.0.0.1:0',
    services: [{ name: 'flowprune.v1.DataLoaderService', definition: DataLoaderServiceService, implementation: { describe: unary(async () => DESCRIBED) } }],
    tls: tls ? loadTls(tls) : null,
  });
  servers.push(s);
  return s.address;
}

/** One Describe call with a short deadline: the response's name, or the error. */
function describeVia(address: string, tls: TlsSettings | null): Promise<{ name?: string; err?: ServiceError }> {
  const client = makeClient(DataLoaderServiceClient, address, tls ? loadTls(tls) : null);
  return new Promise((resolve) =>
    client.describe({ dataset: { name: 'tls' } }, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      resolve(err ? { err } : { name: res.name });
    }),
  );
}

function assertRefused(r: { name?: string; err?: ServiceError }, what: string): ServiceError {
  assert.equal(r.name, undefined, `${what}: the call must not succeed`);
  assert.equal(r.err?.code, status.UNAVAILABLE, `${what}: ${r.err?.code} ${r.err?.details}`);
  return r.err!;
}

describe('TLS between services', { skip }, () => {
  let tlsServer: string;
  let mtlsServer: string;
  let plainServer: string;
  let namedServer: string;

  before(async () => {
    pki = makeTestPki();
    tlsServer = await serve({ cert: pki.server.cert, key: pki.server.key });
    mtlsServer = await serve({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca, clientAuth: true });
    plainServer = await serve(null);
    namedServer = await serve({ cert: pki.namedServer.cert, key: pki.namedServer.key });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.shutdown(1000)));
  });

  test('a client trusting the CA calls a TLS server', async () => {
    assert.equal((await describeVia(tlsServer, { ca: pki.ca })).name, 'tls');
  });

  test('a plaintext client cannot call a TLS server, and is told to pass --tls-ca', async () => {
    const err = assertRefused(await describeVia(tlsServer, null), 'plaintext client');
    assert.match(tlsHint(err, { tls: false, clientCert: false }) ?? '', /requires TLS: pass --tls-ca/);
  });

  test('a client trusting another CA refuses the server, and is told why', async () => {
    const err = assertRefused(await describeVia(tlsServer, { ca: pki.rogueCa }), 'wrong CA');
    assert.match(tlsHint(err, { tls: true, clientCert: false }) ?? '', /not signed by the CA in --tls-ca/);
    // A certificate from another CA is refused just the same.
    const rogue = await serve({ cert: pki.rogueServer.cert, key: pki.rogueServer.key });
    assertRefused(await describeVia(rogue, { ca: pki.ca }), 'rogue server');
  });

  test('a TLS client to a plaintext server fails with a hint', async () => {
    const err = assertRefused(await describeVia(plainServer, { ca: pki.ca }), 'TLS to plaintext');
    assert.match(tlsHint(err, { tls: true, clientCert: false }) ?? '', /does not speak TLS/);
  });

  test('mTLS: no client certificate and a rogue-CA certificate are refused, the CA-signed one accepted', async () => {
    const none = assertRefused(await describeVia(mtlsServer, { ca: pki.ca }), 'no client cert');
    assert.match(tlsHint(none, { tls: true, clientCert: false }) ?? '', /requires a client certificate/);
    const rogue = assertRefused(await describeVia(mtlsServer, { ca: pki.ca, cert: pki.rogueClient.cert, key: pki.rogueClient.key }), 'rogue client');
    assert.ok(tlsHint(rogue, { tls: true, clientCert: true }), `a hint for ${rogue.details}`);
    assert.equal((await describeVia(mtlsServer, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key })).name, 'tls');
    // The service certificate doubles as client certificate (services call each other with it).
    assert.equal((await describeVia(mtlsServer, { ca: pki.ca, cert: pki.server.cert, key: pki.server.key })).name, 'tls');
  });

  test('a certificate naming only a DNS name needs --tls-server-name when dialled by IP', async () => {
    const err = assertRefused(await describeVia(namedServer, { ca: pki.ca }), 'name mismatch');
    assert.match(tlsHint(err, { tls: true, clientCert: false }) ?? '', /--tls-server-name/);
    assert.equal((await describeVia(namedServer, { ca: pki.ca, serverName: 'flowprune.internal' })).name, 'tls');
  });

  test('bad settings are start-up errors naming the option and the file', () => {
    const refuse = (s: TlsSettings, re: RegExp) => assert.throws(() => loadTls(s), (e: unknown) => e instanceof TlsConfigError && re.test(e.message), JSON.stringify(s));
    const missing = join(pki.dir, 'nope.pem');
    refuse({ cert: missing, key: pki.server.key }, new RegExp(`--tls-cert .*cannot read ${missing} \\(ENOENT\\)`));
    refuse({ cert: pki.server.cert, key: missing }, /--tls-key .*cannot read .*nope\.pem/);
    refuse({ ca: missing }, /--tls-ca .*cannot read/);
    refuse({ cert: pki.server.cert, key: pki.client.key }, /--tls-key .*client\.key is not the private key of the certificate .*server\.pem/);
    refuse({ cert: pki.server.cert }, /--tls-key .* is required with --tls-cert/);
    refuse({ key: pki.server.key }, /--tls-cert .* is required with --tls-key/);
    refuse({ clientAuth: true, cert: pki.server.cert, key: pki.server.key }, /--tls-client-auth .*needs --tls-ca/);
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    refuse({ ca: junk }, /--tls-ca .*junk\.pem is not a PEM certificate/);
    // A key that does not parse: the message names the file, never its contents.
    writeFileSync(join(pki.dir, 'bad.key'), 'SECRET-KEY-MATERIAL\n');
    assert.throws(() => loadTls({ cert: pki.server.cert, key: join(pki.dir, 'bad.key') }), (e: unknown) => e instanceof TlsConfigError && /bad\.key is not a PEM private key/.test(e.message) && !e.message.includes('SECRET'));
    // A CA alone makes a TLS client, not a server.
    assert.throws(() => serverCredentials(loadTls({ ca: pki.ca })), /TLS server needs --tls-cert/);
  });

  test('FLOWPRUNE_TLS_* variables configure clients, and round-trip through tlsEnv', () => {
    const s: TlsSettings = { cert: pki.client.cert, key: pki.client.key, ca: pki.ca, clientAuth: true, serverName: 'x' };
    const env = tlsEnv(s);
    assert.deepEqual(tlsSettingsFromEnv(env), s);
    assert.equal(environmentTls({}), null, 'no variables: plaintext');
    const loaded = environmentTls(env);
    assert.ok(loaded?.ca && loaded.cert && loaded.key && loaded.clientAuth);
  });
});

test('plaintext off loopback is warned about; loopback and TLS are not', () => {
  for (const a of ['127.0.0.1:50051', '127.3.2.1:1', 'localhost:1', '[::1]:1', '::1:5']) assert.ok(isLoopbackAddress(a), a);
  for (const a of ['0.0.0.0:50051', '[::]:1', '10.0.0.5:1', 'example.org:1']) assert.ok(!isLoopbackAddress(a), a);
  assert.match(plaintextBindWarning('flowprune-x', '0.0.0.0:1', false) ?? '', /warning: listening on 0\.0\.0\.0:1 without TLS/);
  assert.equal(plaintextBindWarning('flowprune-x', '0.0.0.0:1', true), undefined);
  assert.equal(plaintextBindWarning('flowprune-x', '127.0.0.1:1', false), undefined);
});
