// End to end over mutual TLS: real data-loader, evaluator and trainer processes started with the
// --tls-* flags, certificates made by openssl at test time. The trainer calls the data-loader and
// the evaluator with its own certificate; clients without a CA-signed certificate are refused.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, loadTls, makeClient, runSpec, type LaunchedService, type TlsMaterial } from '@flowprune/grpc';
import { makeTestPki, opensslMissing, tempDir, type TestPki } from '@flowprune/grpc/testing';
import { DataLoaderServiceClient, TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';

const skip = opensslMissing();
const entry = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
const procs: LaunchedService[] = [];
let pki: TestPki;
let dir: string;
let loader: LaunchedService;
let trainer: LaunchedService;

const mtlsFlags = (p: TestPki) => ['--tls-cert', p.server.cert, '--tls-key', p.server.key, '--tls-ca', p.ca, '--tls-client-auth'];
// The children must not pick TLS up from this process's environment: the flags alone configure them.
const env = { FLOWPRUNE_TLS_CERT: '', FLOWPRUNE_TLS_KEY: '', FLOWPRUNE_TLS_CA: '', FLOWPRUNE_TLS_CLIENT_AUTH: '' };

function describeVia(address: string, tls: TlsMaterial | null): Promise<{ name?: string; err?: ServiceError }> {
  const client = makeClient(DataLoaderServiceClient, address, tls);
  return new Promise((resolve) =>
    client.describe({ dataset: { name: 'syn' } }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      resolve(err ? { err } : { name: res.name });
    }),
  );
}

describe('services over mutual TLS', { skip }, () => {
  before(async () => {
    pki = makeTestPki();
    dir = tempDir('mtls');
    generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 2, testPerClass: 1, seed: 5 });
    loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`, ...mtlsFlags(pki)], env });
    procs.push(loader);
    const runs = join(dir, 'runs');
    const evaluator = await launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runs, '--data-loader', loader.address, ...mtlsFlags(pki)], env });
    procs.push(evaluator);
    trainer = await launchService({
      name: 'trainer',
      entry: entry('trainer'),
      // No estimator is needed for a run without pruning; the address is never dialled.
      args: ['--store', runs, '--data-loader', loader.address, '--evaluator', evaluator.address, '--estimator', '127.0.0.1:9', ...mtlsFlags(pki)],
      env,
    });
    procs.push(trainer);
  });

  after(async () => {
    const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
    assert.ok(codes.every((c) => c === 0), `services exit cleanly: ${codes.join(', ')}`);
  });

  test('the data-loader answers Describe only to clients with a CA-signed certificate', async () => {
    assert.equal((await describeVia(loader.address, loadTls({ ca: pki.ca, cert: pki.client.cert, key: pki.client.key }))).name, 'syn');
    for (const [what, tls] of [
      ['plaintext', null],
      ['TLS without a client certificate', loadTls({ ca: pki.ca })],
      ['a rogue-CA client certificate', loadTls({ ca: pki.ca, cert: pki.rogueClient.cert, key: pki.rogueClient.key })],
    ] as const) {
      const r = await describeVia(loader.address, tls);
      assert.equal(r.err?.code, status.UNAVAILABLE, `${what}: ${r.name ?? `${r.err?.code} ${r.err?.details}`}`);
    }
  });

  test('a run through the trainer streams data from the data-loader and evaluates over mTLS', async () => {
    const client = makeClient(TrainerServiceClient, trainer.address, loadTls({ ca: pki.ca, cert: pki.client.cert, key: pki.client.key }));
    try {
      const spec = runSpec({ name: 'mtls', arch: 'vgg13', dataset: { name: 'syn' }, seed: 1, schedule: [{ lr: 0.01, epochs: 1 }], batchSize: 10, evalBatchSize: 10 });
      const { runId } = await call(client, client.startRun, { spec }, 60_000);
      const events: RunEvent[] = [];
      for await (const m of client.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
      const failed = events.find((e) => e.failed);
      assert.equal(failed, undefined, failed?.failed?.message);
      assert.ok(events.some((e) => e.epoch), 'an epoch was trained on batches streamed from the data-loader');
      assert.ok(events.at(-1)?.finished, 'the run finished');
    } finally {
      client.close();
    }
  });

  test('bad TLS files stop a service at start-up with the option and the file named', async () => {
    const output: string[] = [];
    const start = (args: string[]) =>
      launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`, ...args], env, onOutput: (l) => output.push(l) });
    const missing = join(pki.dir, 'missing.pem');
    await assert.rejects(start(['--tls-cert', missing, '--tls-key', pki.server.key]), /exited with code 2/);
    assert.ok(output.some((l) => l.includes(`--tls-cert (FLOWPRUNE_TLS_CERT): cannot read ${missing} (ENOENT)`)), output.join('\n'));
    await assert.rejects(start(['--tls-cert', pki.server.cert, '--tls-key', pki.client.key]), /exited with code 2/);
    assert.ok(output.some((l) => /--tls-key .*client\.key is not the private key of the certificate .*server\.pem/.test(l)), output.join('\n'));
  });

  test('a plaintext service bound beyond loopback warns; with TLS it does not', async () => {
    const output: string[] = [];
    const plain = await launchService({ name: 'dl', entry: entry('data-loader'), args: ['--address', '0.0.0.0:0'], env, onOutput: (l) => output.push(l) });
    const tls = await launchService({ name: 'dl-tls', entry: entry('data-loader'), args: ['--address', '0.0.0.0:0', ...mtlsFlags(pki)], env, onOutput: (l) => output.push(l) });
    await Promise.all([plain.stop(), tls.stop()]);
    assert.ok(output.some((l) => /^\[dl\] .*warning: listening on 0\.0\.0\.0:\d+ without TLS/.test(l)), output.join('\n'));
    assert.ok(!output.some((l) => l.startsWith('[dl-tls]') && l.includes('warning')), output.join('\n'));
  });
});
