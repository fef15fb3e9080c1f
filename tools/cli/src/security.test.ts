// The CLI's side of issue 10: --tls-* reach its clients (and a hint when a server wants TLS), and a
// store password never reaches its output. A stub trainer stands in for the real one: only the
// connection matters here (the real services over mTLS: services/trainer/src/mtls.contract.test.ts).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { loadTls, RpcError, startServer, unary, type StartedServer } from '@flowprune/grpc';
import { makeTestPki, opensslMissing, type TestPki } from '@flowprune/grpc/testing';
import { TrainerServiceService } from '@flowprune/proto';
import { SERVICE_ENTRIES } from './paths.js';

const CLI = join(import.meta.dirname, '../bin/flowprune.mjs');
const PASSWORD = 'Cli-S3cret-PW';
const STUB_MESSAGE = 'spec.arch: stub trainer reached';

/** Runs the CLI; resolves with its exit code and output whatever the code (the tests judge it). */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWPRUNE_TLS_') && k !== 'FLOWPRUNE_STORE'));
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...clean, OTEL_SDK_DISABLED: 'true', ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test('a store password stays out of the CLI output: errors and --help', async () => {
  const uri = `mongodb://alice:${PASSWORD}@127.0.0.1:9/flowprune?serverSelectionTimeoutMS=300`;
  const ls = await cli(['runs', 'ls', '--store', uri]);
  assert.equal(ls.code, 1, ls.stderr);
  assert.match(ls.stderr, /flowprune: run store mongodb:\/\/alice:\*\*\*@127\.0\.0\.1:9\/flowprune/);
  const help = await cli(['runs', 'ls', '--help'], { FLOWPRUNE_STORE: uri });
  assert.match(help.stdout.replace(/\s+/g, ' '), /default: "mongodb:\/\/alice:\*\*\*@127\.0\.0\.1:9/);
  for (const r of [ls, help]) assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), `${r.stdout}${r.stderr}`);
});

test("the services' --help masks a store password in the default from FLOWPRUNE_STORE", async () => {
  const uri = `mongodb://alice:${PASSWORD}@127.0.0.1:9/flowprune`;
  for (const name of ['trainer', 'evaluator', 'importance-estimator'] as const) {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', SERVICE_ENTRIES[name], '--help'], {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true', FLOWPRUNE_STORE: uri },
      timeout: 60_000,
    });
    assert.match(r.stdout.replace(/\s+/g, ' '), /--store <dir\|mongodb-uri>.*default: "mongodb:\/\/alice:\*\*\*@127\.0\.0\.1:9/, name);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), `${name}: ${r.stdout}${r.stderr}`);
  }
});

describe('flowprune --tls-* against a TLS trainer', { skip: opensslMissing() }, () => {
  let pki: TestPki;
  let trainer: StartedServer;
  before(async () => {
    pki = makeTestPki();
    trainer = await startServer({
      address: '127.0.0.1:0',
      services: [
        {
          name: 'flowprune.v1.TrainerService',
          definition: TrainerServiceService,
          implementation: { startRun: unary(async () => Promise.reject(new RpcError(status.INVALID_ARGUMENT, STUB_MESSAGE))) },
        },
      ],
      tls: loadTls({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca, clientAuth: true }),
    });
  });
  after(() => trainer.shutdown(1000));

  const run = (tlsFlags: string[], env: NodeJS.ProcessEnv = {}) => cli([...tlsFlags, 'run', '--trainer', trainer.address, '--set', 'arch=vgg13'], env);

  test('without TLS the call fails with a hint to pass --tls-ca', async () => {
    const r = await run([]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hint: if the server requires TLS: pass --tls-ca/);
    assert.ok(!r.stderr.includes(STUB_MESSAGE));
  });

  test('with --tls-ca but no client certificate the hint asks for one', async () => {
    const r = await run(['--tls-ca', pki.ca]);
    assert.match(r.stderr, /hint: the server requires a client certificate/);
  });

  test('--tls-ca/--tls-cert/--tls-key, or the FLOWPRUNE_TLS_* variables, reach the trainer', async () => {
    const flags = await run(['--tls-ca', pki.ca, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key]);
    assert.match(flags.stderr, new RegExp(`flowprune: ${STUB_MESSAGE}`));
    const env = await run([], { FLOWPRUNE_TLS_CA: pki.ca, FLOWPRUNE_TLS_CERT: pki.client.cert, FLOWPRUNE_TLS_KEY: pki.client.key });
    assert.match(env.stderr, new RegExp(`flowprune: ${STUB_MESSAGE}`));
  });

  test('an unreadable --tls-ca is named with its file', async () => {
    const r = await run(['--tls-ca', join(pki.dir, 'absent.pem')]);
    assert.match(r.stderr, /flowprune: --tls-ca \(FLOWPRUNE_TLS_CA\): cannot read .*absent\.pem \(ENOENT\)/);
  });
});
