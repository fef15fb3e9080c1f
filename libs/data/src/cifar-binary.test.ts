import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeCifarBinary, encodeCifarBinary, readCifarBinary, writeCifarBinary } from './cifar-binary.js';
import { DataError } from './errors.js';
import { catchDataError, randomImages, tempDir } from './test-helpers.js';

const dir = tempDir();

describe('CIFAR binary round trip', () => {
  it('CIFAR-10: write then read gives the same images and labels', () => {
    const { images, labels } = randomImages(7, 10);
    const path = join(dir, 'c10.bin');
    writeCifarBinary(path, images, labels, 'cifar10');
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 7 * 3073);
    // Layout: label byte, then the 3072 pixel bytes as given (CHW).
    assert.equal(bytes[3073], labels[1]);
    assert.deepEqual(bytes.subarray(3074, 3074 + 3072), Buffer.from(images.subarray(3072, 6144)));
    const back = readCifarBinary(path, { variant: 'cifar10' });
    assert.equal(back.count, 7);
    assert.deepEqual(back.images, images);
    assert.deepEqual(back.labels, labels);
    assert.equal(back.coarseLabels, undefined);
  });

  it('CIFAR-100: coarse then fine label bytes; fine label is `labels`', () => {
    const { images } = randomImages(5, 100);
    const labels = Uint8Array.from([0, 99, 42, 7, 55]);
    const coarse = Uint8Array.from([0, 19, 3, 4, 11]);
    const path = join(dir, 'c100.bin');
    writeCifarBinary(path, images, labels, 'cifar100', coarse);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 5 * 3074);
    assert.equal(bytes[3074], 19);
    assert.equal(bytes[3075], 99);
    const back = readCifarBinary(path, { variant: 'cifar100' });
    assert.deepEqual(back.labels, labels);
    assert.deepEqual(back.coarseLabels, coarse);
    assert.deepEqual(back.images, images);
  });

  it('reads from a buffer as well as from a path', () => {
    const { images, labels } = randomImages(3, 10);
    const back = readCifarBinary(encodeCifarBinary(images, labels, 'cifar10'), { variant: 'cifar10' });
    assert.deepEqual(back.images, images);
    assert.deepEqual(back.labels, labels);
  });
});

describe('CIFAR binary errors', () => {
  it('truncated file: names the size, the record size and the truncated record', () => {
    const { images, labels } = randomImages(3, 10);
    const path = join(dir, 'truncated.bin');
    writeFileSync(path, encodeCifarBinary(images, labels, 'cifar10').subarray(0, 3 * 3073 - 100));
    const err = catchDataError(() => readCifarBinary(path, { variant: 'cifar10' }));
    assert.equal(err.file, path);
    assert.equal(err.offset, 2 * 3073);
    assert.equal(err.record, 2);
    assert.equal(err.field, 'size');
    assert.match(err.message, new RegExp(`${path}.*size ${3 * 3073 - 100} bytes`));
    assert.match(err.message, /record size 3073/);
    assert.match(err.message, /last record \(index 2, at byte offset 6146\) is truncated/);
  });

  it('a CIFAR-100 file read as CIFAR-10 suggests the other variant', () => {
    const { images } = randomImages(2, 1);
    const bytes = encodeCifarBinary(images, [1, 2], 'cifar100'); // 6148 bytes: 2 * 3074, not a multiple of 3073
    const err = catchDataError(() => decodeCifarBinary(bytes, 'x.bin', { variant: 'cifar10' }));
    assert.match(err.message, /looks like a CIFAR-100 file: pass variant 'cifar100'/);
  });

  it('empty file is rejected', () => {
    const err = catchDataError(() => decodeCifarBinary(new Uint8Array(0), 'empty.bin', { variant: 'cifar10' }));
    assert.equal(err.file, 'empty.bin');
    assert.match(err.message, /empty/);
  });

  it('label out of range: names record index and byte offset', () => {
    const { images, labels } = randomImages(4, 10);
    const bytes = encodeCifarBinary(images, labels, 'cifar10');
    bytes[3 * 3073] = 10;
    const path = join(dir, 'badlabel.bin');
    writeFileSync(path, bytes);
    const err = catchDataError(() => readCifarBinary(path, { variant: 'cifar10' }));
    assert.equal(err.file, path);
    assert.equal(err.record, 3);
    assert.equal(err.offset, 3 * 3073);
    assert.equal(err.field, 'label');
    assert.match(err.message, /record 3 \(label byte at offset 9219\) has label 10, but only 10 classes/);
  });

  it('numClasses narrows the valid label range', () => {
    const { images, labels } = randomImages(4, 10);
    const bytes = encodeCifarBinary(images, labels, 'cifar10');
    assert.throws(() => decodeCifarBinary(bytes, 'b', { variant: 'cifar10', numClasses: 2 }), DataError);
  });

  it('CIFAR-100 fine and coarse labels are checked at their own offsets', () => {
    const { images } = randomImages(2, 1);
    const bytes = encodeCifarBinary(images, [5, 6], 'cifar100', [1, 2]);
    bytes[3074 + 1] = 100;
    let err = catchDataError(() => decodeCifarBinary(bytes, 'f.bin', { variant: 'cifar100' }));
    assert.deepEqual([err.record, err.offset, err.field], [1, 3075, 'label']);
    bytes[3074 + 1] = 6;
    bytes[3074] = 20;
    err = catchDataError(() => decodeCifarBinary(bytes, 'f.bin', { variant: 'cifar100' }));
    assert.deepEqual([err.record, err.offset, err.field], [1, 3074, 'coarseLabel']);
  });

  it('missing file: names the file and the expected file names', () => {
    const path = join(dir, 'nope.bin');
    const err = catchDataError(() => readCifarBinary(path, { variant: 'cifar10' }));
    assert.equal(err.file, path);
    assert.match(err.message, /not found.*data_batch_1\.bin/);
  });
});
