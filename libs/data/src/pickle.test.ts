import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cifarBatchDict } from './cifar-python.js';
import { readPickle } from './pickle-reader.js';
import { NdArray, PyTuple, type PyKey, type PyValue } from './pickle-values.js';
import { writePickle } from './pickle-writer.js';
import { catchDataError, fixturePixels } from './test-helpers.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

/** A small value with every kind the writer emits. */
function sample(): Map<PyKey, PyValue> {
  const d = new Map<PyKey, PyValue>();
  d.set('data', NdArray.of(Uint8Array.from({ length: 2 * 3072 }, (_, i) => i % 256), [2, 3072]));
  d.set('labels', Array.from({ length: 2500 }, (_, i) => i % 10)); // > 1000: several APPENDS batches
  d.set('big', [70000, -5, 2 ** 31 - 1, 1.5]);
  d.set('tuple', new PyTuple([1, new PyTuple([]), new PyTuple([1, 2, 3, 4])]));
  d.set('flags', [true, false, null]);
  d.set('text', 'naïve ✓');
  d.set('raw', Uint8Array.from([0, 255, 10]));
  d.set(7, 'int key');
  return d;
}

describe('pickle reader', () => {
  it('reads what the writer writes (every value kind)', () => {
    const back = readPickle(writePickle(sample()), 'mem') as Map<PyKey, PyValue>;
    const want = sample();
    assert.deepEqual([...back.keys()], [...want.keys()]);
    const arr = back.get('data') as NdArray;
    assert.deepEqual(arr.shape, [2, 3072]);
    assert.equal(arr.dtype?.descr, 'u1');
    assert.deepEqual(Buffer.from(arr.data), Buffer.from((want.get('data') as NdArray).data));
    assert.ok(arr.dataOffset > 0);
    assert.deepEqual(back.get('labels'), want.get('labels'));
    assert.deepEqual(back.get('big'), [70000, -5, 2 ** 31 - 1, 1.5]);
    const t = back.get('tuple') as PyTuple;
    assert.ok(t instanceof PyTuple && t.items[1] instanceof PyTuple && (t.items[2] as PyTuple).items.length === 4);
    assert.deepEqual(back.get('flags'), [true, false, null]);
    assert.equal(back.get('text'), 'naïve ✓');
    assert.deepEqual(Buffer.from(back.get('raw') as Uint8Array), Buffer.from([0, 255, 10]));
    assert.equal(back.get(7), 'int key');
  });

  it("the writer reproduces Python 2 cPickle's bytes exactly (fixture made and checked by Python)", () => {
    const fixture = readFileSync(join(TESTDATA, 'cifar-10-batches-py', 'data_batch_1'));
    const split = { variant: 'cifar10' as const, images: fixturePixels(1, 2), labels: Uint8Array.from([3, 4]), count: 2 };
    const mine = writePickle(cifarBatchDict(split, 'training batch 1 of 5', ['img_1_0.png', 'img_1_1.png']));
    assert.deepEqual(Buffer.from(mine), fixture);
  });

  it('reads Python 3 pickles: protocol 2 with _codecs.encode bytes, protocols 4 and 5 (FRAME, MEMOIZE, BYTEARRAY8)', () => {
    const train = readPickle(readFileSync(join(TESTDATA, 'cifar-100-python', 'train')), 'train') as Map<PyKey, PyValue>;
    assert.deepEqual(Buffer.from((train.get('data') as NdArray).data), Buffer.from(fixturePixels(1, 4)));
    for (const p of [4, 5]) {
      const d = readPickle(readFileSync(join(TESTDATA, `protocol${p}.pickle`)), 'p') as Map<PyKey, PyValue>;
      assert.equal(d.get('batch_label'), `protocol ${p}`);
      assert.deepEqual(Buffer.from((d.get('data') as NdArray).data), Buffer.from(fixturePixels(10 + p, 2)));
    }
  });

  it('every truncation of a pickle is a DataError naming the file and an offset inside it', () => {
    const bytes = writePickle(sample());
    for (let cut = 0; cut < bytes.length; cut += cut < 200 ? 1 : 97) {
      const err = catchDataError(() => readPickle(bytes.subarray(0, cut), 'cut.pkl'));
      assert.equal(err.file, 'cut.pkl');
      assert.ok(err.offset !== undefined && err.offset <= cut, `cut ${cut}: offset ${err.offset}`);
      assert.match(err.message, /^cut\.pkl: /);
    }
  });

  it('a truncated pixel string names its opcode offset and the missing length', () => {
    const bytes = readFileSync(join(TESTDATA, 'cifar-10-batches-py', 'data_batch_1'));
    const start = bytes.indexOf(0x54); // BINSTRING 'T' carrying the pixels
    const err = catchDataError(() => readPickle(bytes.subarray(0, start + 1000), 'data_batch_1'));
    assert.equal(err.offset, start);
    assert.match(err.message, /truncated: BINSTRING needs 6144 bytes from offset \d+ but the file ends at \d+/);
  });

  it('refuses globals other than numpy arrays (no code runs)', () => {
    const evil = Buffer.concat([Buffer.from([0x80, 2]), Buffer.from('cos\nsystem\n'), Buffer.from('U\x02lsq\x01\x85R.', 'latin1')]);
    const err = catchDataError(() => readPickle(evil, 'evil.pkl'));
    assert.match(err.message, /refusing global os\.system/);
    assert.equal(err.offset, 2);
  });

  it('unknown opcodes, broken memo and stack underflow are DataErrors with offsets', () => {
    assert.equal(catchDataError(() => readPickle(Buffer.from([0x80, 2, 0x7d, 0x01, 0x2e]), 'x')).offset, 3);
    assert.match(catchDataError(() => readPickle(Buffer.from([0x80, 2, 0x68, 9, 0x2e]), 'x')).message, /memo entry 9/);
    assert.match(catchDataError(() => readPickle(Buffer.from([0x80, 2, 0x73, 0x2e]), 'x')).message, /underflow/);
    assert.match(catchDataError(() => readPickle(new Uint8Array(0), 'x')).message, /empty/);
  });

  it('an array whose byte count does not match its shape is rejected', () => {
    const d = new Map<PyKey, PyValue>([['data', NdArray.of(new Uint8Array(3072), [2, 3072])]]);
    assert.match(catchDataError(() => readPickle(writePickle(d), 'short')).message, /needs 6144 bytes, the pickle holds 3072/);
  });
});
