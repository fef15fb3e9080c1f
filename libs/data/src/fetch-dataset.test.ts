import assert from 'node:assert/strict';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeCifarDirectory } from './cifar-dir.js';
import { DataError } from './errors.js';
import { fetchCifar, fetchIdx } from './fetch-dataset.js';
import { IDX_FILES, writeIdxDirectory } from './idx.js';
import { detectFormat, loadDataset } from './registry.js';
import { md5Of, serveBody, serveFiles, tarGz } from './test-http.js';
import { randomImages, tempDir } from './test-helpers.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const root = tempDir();
let n = 0;
const freshDir = (): string => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

/** cifar-10-python.tar.gz in the real layout: cifar-10-batches-py/ with the Python-made batches and a readme. */
async function pythonArchive(): Promise<{ bytes: Buffer; md5: string }> {
  const src = freshDir();
  cpSync(join(TESTDATA, 'cifar-10-batches-py'), join(src, 'cifar-10-batches-py'), { recursive: true });
  writeFileSync(join(src, 'cifar-10-batches-py', 'readme.html'), '<html></html>');
  return tarGz(src, ['cifar-10-batches-py'], join(src, 'cifar-10-python.tar.gz'));
}

/** Everything visible in a folder: names, hidden ones included. */
const listing = (d: string): string[] => readdirSync(d).sort();

describe('fetchCifar (loopback server, small archives in the real layouts)', () => {
  it('downloads, verifies, extracts, reads and installs; a complete dataset is then left alone', async () => {
    const archive = await pythonArchive();
    const srv = await serveBody(archive.bytes);
    const dir = freshDir();
    const statuses: string[] = [];
    const r = await fetchCifar({ dataset: 'cifar10', format: 'python', dir, url: srv.url, md5: archive.md5, onStatus: (s) => statuses.push(s) });
    assert.equal(r.path, join(dir, 'cifar-10-batches-py'));
    assert.deepEqual([r.status, r.format, r.trainSize, r.testSize, r.numClasses], ['fetched', 'cifar10-python', 10, 3, 10]);
    assert.deepEqual(listing(dir), ['cifar-10-batches-py'], 'no archive, .part, lock or temp folder left');
    assert.equal(loadDataset(r.path, 'cifar10-python').classNames[0], 'airplane');
    assert.ok(statuses.some((s) => s.includes(`MD5 ${archive.md5} verified`)));

    const again = await fetchCifar({ dataset: 'cifar10', format: 'python', dir, url: srv.url, md5: archive.md5 });
    assert.equal(again.status, 'present');
    assert.equal(srv.ranges.length, 1, 'no second request');
  });

  it('CIFAR-100 binary archive (cifar-100-binary/), kept when asked', async () => {
    const src = freshDir();
    const { images, labels } = randomImages(6, 100, 3);
    const s = { variant: 'cifar100' as const, images, labels, coarseLabels: labels.map((l) => l % 20), count: 6 };
    writeCifarDirectory(join(src, 'cifar-100-binary'), { variant: 'cifar100', train: s, test: s, classNames: Array.from({ length: 100 }, (_, i) => `c${i}`) });
    const archive = await tarGz(src, ['cifar-100-binary'], join(src, 'a.tar.gz'));
    const srv = await serveBody(archive.bytes);
    const dir = freshDir();
    const r = await fetchCifar({ dataset: 'cifar100', format: 'binary', dir, url: srv.url, md5: archive.md5, keepArchive: true });
    assert.deepEqual([r.format, r.trainSize, r.numClasses], ['cifar100-binary', 6, 100]);
    assert.deepEqual(listing(dir), ['cifar-100-binary', 'cifar-100-binary.tar.gz']);
  });

  it('interrupted download: no dataset is visible; the next run resumes with Range and installs', async () => {
    const archive = await pythonArchive();
    const srv = await serveBody(archive.bytes, { dropRequests: 1, dropAfter: Math.floor(archive.bytes.length / 3) });
    const dir = freshDir();
    const opts = { dataset: 'cifar10', format: 'python', dir, url: srv.url, md5: archive.md5, retries: 0 } as const;
    await assert.rejects(fetchCifar(opts), /dropped after .*run the command again to resume/);
    assert.deepEqual(listing(dir), ['cifar-10-python.tar.gz.part']);
    const r = await fetchCifar(opts);
    assert.ok(r.resumedFrom > 0);
    assert.deepEqual(srv.ranges, ['', `bytes=${r.resumedFrom}-`]);
    assert.deepEqual(listing(dir), ['cifar-10-batches-py']);
  });

  it('checksum mismatch: clear error and nothing half-written is visible', async () => {
    const archive = await pythonArchive();
    const srv = await serveBody(archive.bytes);
    const dir = freshDir();
    await assert.rejects(
      fetchCifar({ dataset: 'cifar10', format: 'python', dir, url: srv.url }), // the official MD5 cannot match
      (e: Error) => e.message.includes('checksum mismatch') && e.message.includes('expected c58f30108f718f92721af3b95e74349a'),
    );
    assert.deepEqual(listing(dir), []);
  });

  it('an archive whose contents are corrupt (MD5 fine) is rejected before it becomes visible', async () => {
    const src = freshDir();
    cpSync(join(TESTDATA, 'cifar-10-batches-py'), join(src, 'cifar-10-batches-py'), { recursive: true });
    const batch = join(src, 'cifar-10-batches-py', 'data_batch_2');
    writeFileSync(batch, readFileSync(batch).subarray(0, 3000));
    const archive = await tarGz(src, ['cifar-10-batches-py'], join(src, 'a.tar.gz'));
    const srv = await serveBody(archive.bytes);
    const dir = freshDir();
    await assert.rejects(
      fetchCifar({ dataset: 'cifar10', format: 'python', dir, url: srv.url, md5: archive.md5 }),
      (e: unknown) => e instanceof DataError && /data_batch_2: pickle is truncated/.test(e.message),
    );
    assert.deepEqual(listing(dir), ['cifar-10-python.tar.gz'], 'only the verified download stays, for a retry without re-downloading');
  });

  it('the wrong archive, and entries escaping the folder, are refused', async () => {
    const archive = await pythonArchive();
    const srv = await serveBody(archive.bytes);
    const dir = freshDir();
    await assert.rejects(
      fetchCifar({ dataset: 'cifar10', format: 'binary', dir, url: srv.url, md5: archive.md5 }),
      /has no cifar-10-batches-bin\/ folder \(it holds cifar-10-batches-py/,
    );
    assert.deepEqual(listing(dir), ['cifar-10-binary.tar.gz']);

    // A cut gzip stream (its own MD5 given, so only extraction can catch it).
    const cut = archive.bytes.subarray(0, archive.bytes.length - 2000);
    const srvCut = await serveBody(cut);
    const dirCut = freshDir();
    await assert.rejects(
      fetchCifar({ dataset: 'cifar10', format: 'python', dir: dirCut, url: srvCut.url, md5: md5Of(cut) }),
      /cannot extract \(zlib: unexpected end of file\); the archive is corrupt or unsafe/,
    );
    assert.deepEqual(listing(dirCut), ['cifar-10-python.tar.gz']);

    // An entry named cifar-10-batches-py/../../evil.txt must not land outside the temp folder.
    const src = freshDir();
    mkdirSync(join(src, 'inner', 'cifar-10-batches-py'), { recursive: true });
    cpSync(join(TESTDATA, 'cifar-10-batches-py'), join(src, 'inner', 'cifar-10-batches-py'), { recursive: true });
    writeFileSync(join(src, 'evil.txt'), 'x');
    const evil = await tarGz(join(src, 'inner'), ['cifar-10-batches-py', 'cifar-10-batches-py/../../evil.txt'], join(src, 'evil.tar.gz'), true);
    const srv2 = await serveBody(evil.bytes);
    const dir2 = freshDir();
    await assert.rejects(fetchCifar({ dataset: 'cifar10', format: 'python', dir: dir2, url: srv2.url, md5: evil.md5 }), /cannot extract.*path contains '\.\.'.*corrupt or unsafe/);
    assert.ok(!existsSync(join(dir2, '..', 'evil.txt')) && !existsSync(join(root, 'evil.txt')));
    assert.ok(!listing(dir2).some((f) => f.startsWith('.')), 'no temp folder left');
  });

  it('an incomplete folder under the target name is reported and left untouched', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'cifar-10-batches-py'));
    writeFileSync(join(dir, 'cifar-10-batches-py', 'data_batch_1'), 'mine');
    await assert.rejects(fetchCifar({ dataset: 'cifar10', format: 'python', dir, url: 'http://127.0.0.1:9/x' }), /exists but is incomplete \(missing data_batch_2/);
    assert.deepEqual(readdirSync(join(dir, 'cifar-10-batches-py')), ['data_batch_1']);
  });
});

describe('fetchIdx (loopback server, the four .gz files in the idx format)', () => {
  /** A small Fashion-MNIST-like dataset: the four .gz files, as served, and their MD5s. */
  function idxFiles(): { bodies: Record<string, Buffer>; md5: Record<string, string> } {
    const src = freshDir();
    const grey = (count: number, seed: number) => ({ images: randomImages(count, 10, seed).images.subarray(0, count * 784), labels: randomImages(count, 10, seed).labels });
    writeIdxDirectory(src, { train: grey(12, 1), test: grey(4, 2) });
    const bodies: Record<string, Buffer> = {};
    const md5: Record<string, string> = {};
    for (const f of IDX_FILES) {
      bodies[`${f}.gz`] = readFileSync(join(src, `${f}.gz`));
      md5[f] = md5Of(bodies[`${f}.gz`]);
    }
    return { bodies, md5 };
  }

  it('downloads the four files, checks each MD5, reads them through and renames the folder into place', async () => {
    const { bodies, md5 } = idxFiles();
    const srv = await serveFiles(bodies);
    const dir = freshDir();
    const r = await fetchIdx({ dataset: 'fashion-mnist', dir, mirrors: [srv.base], md5 });
    assert.deepEqual([r.path, r.status, r.format, r.trainSize, r.testSize, r.numClasses], [join(dir, 'fashion-mnist'), 'fetched', 'idx', 12, 4, 10]);
    assert.deepEqual(listing(dir), ['fashion-mnist'], 'no staging folder or lock left');
    assert.equal(loadDataset(r.path, detectFormat(r.path)).classNames[9], 'Ankle boot');
    const again = await fetchIdx({ dataset: 'fashion-mnist', dir, mirrors: [srv.base], md5 });
    assert.equal(again.status, 'present');
    assert.equal(srv.ranges.length, 4, 'nothing fetched twice');
  });

  it('the published MD5s are checked: a file that differs is refused and nothing is installed', async () => {
    const { bodies } = idxFiles();
    const srv = await serveFiles(bodies);
    const dir = freshDir();
    await assert.rejects(fetchIdx({ dataset: 'kmnist', dir, mirrors: [srv.base] }), /checksum mismatch .*train-images-idx3-ubyte\.gz.*expected bdb82020997e1d708af4cf47b453dcf7/);
    assert.ok(!existsSync(join(dir, 'kmnist')));
  });

  it('a dropped connection resumes; a mirror that fails is followed by the next', async () => {
    const { bodies, md5 } = idxFiles();
    const name = `${IDX_FILES[0]}.gz`;
    const gone = await serveFiles({}, { status: 404 });
    const flaky = await serveFiles(bodies, { dropRequests: 1, dropAfter: 100 });
    const dir = freshDir();
    const statuses: string[] = [];
    const r = await fetchIdx({ dataset: 'mnist', dir, mirrors: [gone.base, flaky.base], md5, retries: 1, onStatus: (s) => statuses.push(s) });
    assert.equal(gone.ranges.length, 4, 'the first mirror was asked for every file');
    assert.deepEqual(flaky.ranges.slice(0, 2), ['', 'bytes=100-'], `${name} resumed from byte 100`);
    assert.equal(r.trainSize, 12);
    assert.ok(statuses.some((s) => /dropped after 100 of \d+ bytes.*retrying \(attempt 2\)/.test(s)));
  });

  it('--from: an installed copy is read through and linked into place, nothing copied', async () => {
    const installed = freshDir();
    writeIdxDirectory(installed, { train: { images: new Uint8Array(3 * 784), labels: [1, 2, 3] }, test: { images: new Uint8Array(784), labels: [4] } });
    const dir = freshDir();
    const r = await fetchIdx({ dataset: 'fashion-mnist', dir, from: installed });
    assert.deepEqual([r.status, r.trainSize, r.testSize], ['linked', 3, 1]);
    assert.equal(realpathSync(r.path), realpathSync(installed));
    assert.ok(lstatSync(r.path).isSymbolicLink());
    assert.equal(loadDataset(r.path, 'idx').classNames[0], 'T-shirt/top', 'the link is named after the dataset, so its class names are known');
    assert.equal((await fetchIdx({ dataset: 'fashion-mnist', dir, from: installed })).status, 'present');

    const broken = freshDir();
    writeIdxDirectory(broken, { train: { images: new Uint8Array(784), labels: [12] }, test: { images: new Uint8Array(784), labels: [0] } });
    const dir2 = freshDir();
    await assert.rejects(fetchIdx({ dataset: 'fashion-mnist', dir: dir2, from: broken }), /label 0 \(at byte offset 8 of the decompressed data\) is 12/);
    assert.deepEqual(listing(dir2), [], 'nothing linked');
  });
});
