// A password in the MongoDB URI stays out of every message, error and printed form of the store.
// No MongoDB server is needed: the store points at a closed local port and fails fast.
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { MongoRunStore } from './mongo-run-store.js';
import { openRunStore } from './open-store.js';

const PASSWORD = 'Sup3r-S3cret-PW';
const URI = `mongodb://alice:${PASSWORD}@127.0.0.1:9/flowprune?serverSelectionTimeoutMS=300&connectTimeoutMS=300`;

const clean = (what: string, text: string) => assert.ok(!text.includes(PASSWORD), `${what} leaks the password: ${text}`);

test('a store that cannot connect names itself with the password masked', async () => {
  const store = openRunStore(URI) as MongoRunStore;
  clean('inspect(store)', inspect(store, { depth: 8 }));
  clean('JSON.stringify(store)', JSON.stringify(store));
  clean('console form', `${inspect({ store })}`);
  const err = await store.listRuns({}).then(
    () => assert.fail('no server listens on 127.0.0.1:9'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /^run store mongodb:\/\/alice:\*\*\*@127\.0\.0\.1:9\/flowprune\?serverSelectionTimeoutMS=300/);
  clean('message', err.message);
  clean('stack', err.stack ?? '');
  clean('inspect(err) with its cause', inspect(err, { depth: 8 }));
  await store.close();
});

test('a URI the driver cannot parse fails with the password masked', () => {
  assert.throws(
    () => new MongoRunStore({ uri: `mongodb://alice:${PASSWORD}:x@127.0.0.1/db` }),
    (e: unknown) => {
      const err = e as Error;
      clean('message', err.message);
      clean('inspect', inspect(err, { depth: 8 }));
      return /^run store mongodb:\/\/alice:\*\*\*@127\.0\.0\.1\/db: /.test(err.message);
    },
  );
});
