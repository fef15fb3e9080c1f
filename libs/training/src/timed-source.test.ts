import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { timedSource } from './timed-source.js';

test('reports each wait, and closes the source when the consumer stops early', async () => {
  let closed = false;
  async function* source() {
    try {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 20));
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  const waits: number[] = [];
  const got: number[] = [];
  for await (const x of timedSource(source(), (ms) => waits.push(ms))) {
    got.push(x);
    if (x === 2) break;
  }
  assert.deepEqual(got, [0, 1, 2]);
  assert.equal(waits.length, 3);
  assert.ok(waits.every((w) => w >= 15), `waits ${waits}`);
  assert.equal(closed, true, 'the source ran its cleanup');
});
