import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { hasSecrets, redactSecrets, redactUri } from './redact.js';

test('URI passwords are masked; user, hosts, database and options stay', () => {
  const cases: [string, string][] = [
    ['mongodb://alice:s3cret@db.example:27017/flowprune', 'mongodb://alice:***@db.example:27017/flowprune'],
    ['mongodb+srv://alice:p%40ss@cluster0.example/flowprune?retryWrites=true', 'mongodb+srv://alice:***@cluster0.example/flowprune?retryWrites=true'],
    // Unencoded '@' and ':' in the password: the userinfo ends at the last '@' of the authority.
    ['mongodb://bob:pa@ss:w@rd@h1:27017,h2:27017/db?replicaSet=rs0', 'mongodb://bob:***@h1:27017,h2:27017/db?replicaSet=rs0'],
    ['mongodb://alice:@h/db', 'mongodb://alice:***@h/db'],
    ['https://user:token@collector.example:4318/v1/traces', 'https://user:***@collector.example:4318/v1/traces'],
    ['mongodb://h/db?authSource=admin&password=hunter2&w=majority', 'mongodb://h/db?authSource=admin&password=***&w=majority'],
    ['mongodb://h/?tlsCertificateKeyFilePassword=kp', 'mongodb://h/?tlsCertificateKeyFilePassword=***'],
  ];
  for (const [input, want] of cases) assert.equal(redactUri(input), want, input);
  for (const [input] of cases) assert.ok(hasSecrets(input), input);
});

test('locations without credentials are unchanged', () => {
  for (const s of ['runs', '/var/lib/flowprune/runs', 'mongodb://db:27017/flowprune', 'mongodb://x509user@db/?authMechanism=MONGODB-X509', 'C:\\runs', '127.0.0.1:50051']) {
    assert.equal(redactUri(s), s);
    assert.ok(!hasSecrets(s), s);
  }
});

test('every URI in a longer text is masked, and private key blocks too', () => {
  const text =
    'flowprune-trainer --store mongodb://u:pw1@a/x --mirror mongodb://v:pw2@b/y failed: ' +
    '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';
  const out = redactSecrets(text);
  for (const secret of ['pw1', 'pw2', 'MHcCAQEEIB', 'abc']) assert.ok(!out.includes(secret), `${secret} in ${out}`);
  assert.match(out, /mongodb:\/\/u:\*\*\*@a\/x .* mongodb:\/\/v:\*\*\*@b\/y/);
  assert.equal(out.match(/\[private key redacted\]/g)?.length, 2);
});
