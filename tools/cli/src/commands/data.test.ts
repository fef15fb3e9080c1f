// `flowprune data fetch` end to end: the real CLI process against a loopback HTTP server that cuts
// its first connection, serving a small cifar-10-python.tar.gz in the official layout.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create } from 'tar';
import { detectFormat, generateSyntheticCifar10, loadDataset, writeIdxDirectory } from '@flowprune/data';

const CLI = join(import.meta.dirname, '../../bin/flowprune.mjs');
const root = mkdtempSync(join(tmpdir(), 'flowprune-cli-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

let body: Buffer;
let md5: string;
let url: string;
const ranges: string[] = [];
const server = createServer((req, res) => {
  ranges.push(req.headers.range ?? '');
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  const headers = { 'content-length': body.length - start, ...(start ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) };
  res.writeHead(start ? 206 : 200, headers);
  // The first request is cut after a third of the archive.
  if (ranges.length === 1) res.write(body.subarray(0, Math.floor(body.length / 3)), () => res.socket?.destroy());
  else res.end(body.subarray(start));
});

before(async () => {
  const src = join(root, 'src');
  generateSyntheticCifar10({ dir: join(src, 'cifar-10-batches-py'), format: 'python', trainPerClass: 4, testPerClass: 2, seed: 1 });
  await create({ gzip: true, file: join(root, 'a.tar.gz'), cwd: src, portable: true }, ['cifar-10-batches-py']);
  body = readFileSync(join(root, 'a.tar.gz'));
  md5 = createHash('md5').update(body).digest('hex');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/cifar-10-python.tar.gz`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

test('data fetch: resumes a cut download, verifies, installs; a second run leaves it alone', async () => {
  const dir = join(root, 'out');
  const r = await cli('data', 'fetch', 'cifar10', '--format', 'python', '--dir', dir, '--url', url, '--md5', md5);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /dropped after \d+ of \d+ bytes.*retrying \(attempt 2\)/);
  assert.match(r.stderr, /download 100%/);
  assert.match(r.stdout, new RegExp(`cifar10 cifar10-python ready in ${join(dir, 'cifar-10-batches-py')}: 40 train / 20 test images, 10 classes`));
  assert.deepEqual(ranges.slice(0, 2), ['', `bytes=${Math.floor(body.length / 3)}-`]);
  assert.deepEqual(readdirSync(dir), ['cifar-10-batches-py']);
  assert.equal(loadDataset(join(dir, 'cifar-10-batches-py'), 'cifar10-python').train.count, 40);

  const again = await cli('data', 'fetch', 'cifar10', '--format', 'python', '--dir', dir, '--url', url, '--md5', md5);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already present/);
  assert.equal(ranges.length, 2, 'nothing downloaded again');
});

test('data fetch: a checksum mismatch exits 1 with the reason and leaves nothing behind', async () => {
  const dir = join(root, 'bad');
  mkdirSync(dir);
  const r = await cli('data', 'fetch', 'cifar10', '--format', 'python', '--dir', dir, '--url', url);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /flowprune: checksum mismatch for .*expected c58f30108f718f92721af3b95e74349a/);
  assert.deepEqual(readdirSync(dir), []);
});

test('data fetch fashion-mnist --from: an installed copy is read through and linked, not copied', async () => {
  const installed = join(root, 'installed');
  writeIdxDirectory(installed, { train: { images: new Uint8Array(5 * 784), labels: [0, 1, 2, 3, 9] }, test: { images: new Uint8Array(2 * 784), labels: [4, 5] } });
  const dir = join(root, 'linked');
  const r = await cli('data', 'fetch', 'fashion-mnist', '--dir', dir, '--from', installed);
  assert.equal(r.code, 0, r.stderr);
  const target = join(dir, 'fashion-mnist');
  assert.match(r.stdout, new RegExp(`fashion-mnist idx linked in ${target}: 5 train / 2 test images, 10 classes`));
  assert.match(r.stdout, new RegExp(`--dataset fashion-mnist=${target}`));
  assert.ok(lstatSync(target).isSymbolicLink());
  assert.equal(realpathSync(target), realpathSync(installed));
  assert.equal(detectFormat(target), 'idx');
  assert.equal(loadDataset(target, 'idx').classNames[9], 'Ankle boot');

  const md5 = await cli('data', 'fetch', 'mnist', '--dir', dir, '--md5', 'abc');
  assert.equal(md5.code, 1);
  assert.match(md5.stderr, /flowprune: --md5 is for CIFAR archives/);
});
