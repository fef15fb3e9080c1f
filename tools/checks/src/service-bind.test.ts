// Every service listens on 127.0.0.1 unless told otherwise (flag or FLOWPRUNE_*_ADDRESS): what a
// service exposes beyond this machine is a decision someone makes, with TLS (see libs/grpc/src/tls.ts).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const WORKSPACE = join(import.meta.dirname, '../../..');
const SERVICES = ['data-loader', 'importance-estimator', 'random-estimator', 'evaluator', 'trainer'];

const help = (name: string, env: NodeJS.ProcessEnv): string =>
  execFileSync(process.execPath, ['--import', 'tsx', join(WORKSPACE, 'services', name, 'src/main.ts'), '--help'], {
    env: { ...env, OTEL_SDK_DISABLED: 'true' },
    encoding: 'utf8',
  });

test('every service binds 127.0.0.1 by default and offers the --tls-* flags', () => {
  // Without the address variables, the defaults in --help are the addresses the services bind.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^FLOWPRUNE_.*ADDRESS$|^FLOWPRUNE_TLS_/.test(k)));
  for (const name of SERVICES) {
    const text = help(name, env);
    const address = /--address <host:port>[\s\S]*?\(default: "([^"]+)"\)/.exec(text)?.[1];
    assert.match(address ?? '', /^127\.0\.0\.1:\d+$/, `${name}: default --address is ${address}`);
    for (const flag of ['--tls-cert', '--tls-key', '--tls-ca', '--tls-client-auth']) assert.ok(text.includes(flag), `${name} --help lists ${flag}`);
  }
});

test('a store URI with a password in FLOWPRUNE_STORE is shown masked by --help', () => {
  const password = 'Help-S3cret-PW';
  for (const name of ['importance-estimator', 'evaluator', 'trainer']) {
    const text = help(name, { ...process.env, FLOWPRUNE_STORE: `mongodb://alice:${password}@db.example/flowprune` });
    assert.ok(!text.includes(password), `${name} --help shows the password`);
    assert.match(text.replace(/\s+/g, ' '), /default: "mongodb:\/\/alice:\*\*\*@db\.example\/flowprune"/, name);
  }
});
