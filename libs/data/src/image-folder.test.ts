import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { encodeImage, writeImageFolder } from './image-folder-write.js';
import { readImageFolder } from './image-folder.js';
import { catchDataError, randomImages, tempDir } from './test-helpers.js';

const root = tempDir();
let n = 0;
const fresh = (): string => join(root, `f${n++}`);

/** A PNG of any size and colour type from a per-pixel RGBA function. */
function png(width: number, height: number, colorType: 0 | 2 | 4 | 6, px: (x: number, y: number) => [number, number, number, number]): Buffer {
  const img = new pngjs.PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) img.data.set(px(x, y), (y * width + x) * 4);
  return pngjs.PNG.sync.write(img, { colorType, inputHasAlpha: true });
}

/** A minimal valid folder with one class, plus whatever `extra` adds. */
function folder(extra: (dir: string) => void): string {
  const dir = fresh();
  mkdirSync(join(dir, 'train', 'a'), { recursive: true });
  mkdirSync(join(dir, 'test', 'a'), { recursive: true });
  writeFileSync(join(dir, 'train', 'a', 'ok.png'), png(32, 32, 2, () => [1, 2, 3, 255]));
  extra(dir);
  return dir;
}

describe('image folders', () => {
  it('PNG round trip: classes sorted like ImageFolder, files sorted, pixels exact, both splits', () => {
    const dir = fresh();
    const classNames = ['zebra', 'Apple', 'mango', 'ant'];
    const train = randomImages(9, 4, 1);
    const test = randomImages(4, 4, 2);
    writeImageFolder(dir, { classNames, train: { ...train, count: 9 }, test: { ...test, count: 4 } });
    const ds = readImageFolder(dir);
    assert.equal(ds.format, 'image-folder');
    assert.deepEqual(ds.classNames, ['Apple', 'ant', 'mango', 'zebra']); // code-point order, as Python's sorted()
    assert.equal(ds.train.count, 9);
    assert.equal(ds.test.count, 4);
    // Written as <split>/<class>/<index>.png: read back class by class, index order within a class.
    const expected = [...train.labels.keys()].sort((a, b) => {
      const ca = classNames[train.labels[a]];
      const cb = classNames[train.labels[b]];
      return ca === cb ? a - b : Buffer.compare(Buffer.from(ca), Buffer.from(cb));
    });
    expected.forEach((src, i) => {
      assert.equal(ds.classNames[ds.train.labels[i]], classNames[train.labels[src]]);
      assert.deepEqual(ds.train.images.subarray(i * 3072, (i + 1) * 3072), train.images.subarray(src * 3072, (src + 1) * 3072));
    });
    assert.match(ds.trainFiles[0], /train\/Apple\/\d+\.png$/);
  });

  it('JPEG decodes close to the source; grey becomes RGB; alpha is dropped', () => {
    const smooth = new Uint8Array(3072);
    for (let p = 0; p < 3072; p++) smooth[p] = (p % 1024) >> 3;
    const dir = folder((d) => {
      writeFileSync(join(d, 'train', 'a', 'photo.jpg'), encodeImage(smooth, 0, 'jpg'));
      writeFileSync(join(d, 'train', 'a', 'grey.png'), png(32, 32, 0, (x) => [x * 8, x * 8, x * 8, 255]));
      writeFileSync(join(d, 'train', 'a', 'rgba.png'), png(32, 32, 6, () => [200, 100, 50, 0]));
      writeFileSync(join(d, 'train', 'a', 'README.txt'), 'not an image, ignored');
    });
    const ds = readImageFolder(dir);
    assert.deepEqual(ds.trainFiles.map((f) => f.slice(f.lastIndexOf('/') + 1)), ['grey.png', 'ok.png', 'photo.jpg', 'rgba.png']);
    const img = (i: number): Uint8Array => ds.train.images.subarray(i * 3072, (i + 1) * 3072);
    assert.deepEqual([img(0)[5], img(0)[1024 + 5], img(0)[2048 + 5]], [40, 40, 40]);
    let diff = 0;
    for (let p = 0; p < 3072; p++) diff += Math.abs(img(2)[p] - smooth[p]);
    assert.ok(diff / 3072 < 3, `mean JPEG error ${diff / 3072}`);
    assert.deepEqual([img(3)[0], img(3)[1024], img(3)[2048]], [200, 100, 50]);
  });

  it('an image that is not 32x32 names the file and its size', () => {
    const dir = folder((d) => writeFileSync(join(d, 'train', 'a', 'big.png'), png(33, 32, 2, () => [0, 0, 0, 255])));
    const err = catchDataError(() => readImageFolder(dir));
    assert.equal(err.file, join(dir, 'train', 'a', 'big.png'));
    assert.equal(err.field, 'size');
    assert.match(err.message, /big\.png: image is 33x32; every image must be 32x32/);
  });

  it('a PNG header claiming a huge size is refused before decoding (no gigabyte allocation)', () => {
    const forged = Buffer.from(png(32, 32, 2, () => [0, 0, 0, 255]));
    forged.writeUInt32BE(60_000, 16); // IHDR width
    forged.writeUInt32BE(60_000, 20); // IHDR height: pngjs would allocate 14.4 GB
    const dir = folder((d) => writeFileSync(join(d, 'train', 'a', 'forged.png'), forged));
    const rssBefore = process.memoryUsage().rss;
    const err = catchDataError(() => readImageFolder(dir));
    assert.equal(err.field, 'size');
    assert.match(err.message, /forged\.png: image is 60000x60000; every image must be 32x32/);
    assert.ok(process.memoryUsage().rss - rssBefore < 256 << 20, 'decoding was attempted');
  });

  it('truncated PNG, truncated JPEG and a non-image with an image extension name the file', () => {
    const good = png(32, 32, 2, () => [9, 9, 9, 255]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['cut.png', good.subarray(0, good.length - 30), /cut\.png: corrupt PNG/],
      ['cut.jpg', Buffer.from(jpeg.encode({ width: 32, height: 32, data: Buffer.alloc(4096, 128) }, 90).data.subarray(0, 200)), /cut\.jpg: corrupt JPEG/],
      ['text.png', Buffer.from('hello'), /text\.png: not a PNG or JPEG file/],
    ];
    for (const [name, bytes, re] of cases) {
      const dir = folder((d) => writeFileSync(join(d, 'train', 'a', name), bytes));
      const err = catchDataError(() => readImageFolder(dir));
      assert.equal(err.file, join(dir, 'train', 'a', name));
      assert.match(err.message, re);
    }
  });

  it('a link that resolves outside the root is refused', () => {
    const outside = join(fresh(), 'secret.png');
    mkdirSync(join(outside, '..'), { recursive: true });
    writeFileSync(outside, png(32, 32, 2, () => [1, 1, 1, 255]));
    const dir = folder((d) => symlinkSync(outside, join(d, 'train', 'a', 'link.png')));
    const err = catchDataError(() => readImageFolder(dir));
    assert.equal(err.field, 'path');
    assert.match(err.message, /link\.png: resolves to .*secret\.png, outside the dataset root/);
  });

  it('a test class missing from train, a missing split, and an empty train are errors', () => {
    const dir = folder((d) => mkdirSync(join(d, 'test', 'b')));
    assert.match(catchDataError(() => readImageFolder(dir)).message, /class folder "b" has no counterpart/);
    const noTest = fresh();
    mkdirSync(join(noTest, 'train', 'a'), { recursive: true });
    assert.match(catchDataError(() => readImageFolder(noTest)).message, /no test\/ sub-folder/);
    mkdirSync(join(noTest, 'test'));
    assert.match(catchDataError(() => readImageFolder(noTest)).message, /no \.png\/\.jpg\/\.jpeg images/);
  });

  it("images in nested folders are included in ImageFolder's order (sorted(os.walk), checked with Python)", () => {
    const dir = folder((d) => {
      const ok = readFileSync(join(d, 'train', 'a', 'ok.png'));
      for (const sub of ['sub/c', 'sub-x']) mkdirSync(join(d, 'train', 'a', sub), { recursive: true });
      for (const f of ['z.png', 'sub/deep.PNG', 'sub-x/x.png', 'sub/c/y.png']) writeFileSync(join(d, 'train', 'a', f), ok);
    });
    assert.deepEqual(
      readImageFolder(dir).trainFiles.map((f) => f.slice(join(dir, 'train').length + 1)),
      ['a/ok.png', 'a/z.png', 'a/sub/deep.PNG', 'a/sub-x/x.png', 'a/sub/c/y.png'],
    );
  });
});
