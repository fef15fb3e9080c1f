// The same contract suite as the file store, against MongoDB whenever MONGODB_URI is set
// (e.g. MONGODB_URI=mongodb://127.0.0.1:27017 npm test). Without it the suite is reported skipped.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runStoreContract } from './contract.js';
import { MongoRunStore } from './mongo-run-store.js';

const uri = process.env.MONGODB_URI;
const STORE_MODULE = fileURLToPath(new URL('./mongo-run-store.ts', import.meta.url));

if (uri) {
  runStoreContract('MongoRunStore', async () => {
    const dbName = `flowprune_test_${randomBytes(4).toString('hex')}`;
    const store = new MongoRunStore({ uri, dbName });
    return {
      store,
      childFactory: { module: STORE_MODULE, exportName: 'createMongoRunStore', options: { uri, dbName } },
      dispose: async () => {
        await store.dropDatabase();
        await store.close();
      },
    };
  });
} else {
  test('RunStore contract: MongoRunStore', { skip: 'MONGODB_URI is not set (see README: "Run store")' }, () => {});
}
