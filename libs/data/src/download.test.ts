import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { download, DownloadError, type DownloadProgress } from './download.js';
import { md5Of, serveBody } from './test-http.js';
import { tempDir } from './test-helpers.js';
import { mulberry32 } from '@flowprune/common';

const rng = mulberry32(11);
const BODY = Buffer.from(Uint8Array.from({ length: 300_000 }, () => Math.floor(rng() * 256)));
const MD5 = md5Of(BODY);
const root = tempDir();
let n = 0;
/** A destination in a fresh folder holding only `.keep`, so leftovers are easy to see. */
const fresh = (): string => {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, '.keep'), '');
  return join(dir, 'file.tar.gz');
};

async function rejects(p: Promise<unknown>): Promise<DownloadError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DownloadError, `expected DownloadError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a DownloadError');
}

describe('download', () => {
  it('fetches, reports progress up to the total, verifies MD5 and leaves no .part', async () => {
    const srv = await serveBody(BODY);
    const path = fresh();
    const seen: DownloadProgress[] = [];
    const r = await download({ url: srv.url, dest: path, md5: MD5, onProgress: (p) => seen.push(p) });
    assert.deepEqual(readFileSync(path), BODY);
    assert.deepEqual([r.requests, r.resumedFrom, r.cached], [1, 0, false]);
    assert.equal(seen.at(-1)?.received, BODY.length);
    assert.ok(seen.every((p, i) => p.total === BODY.length && (i === 0 || p.received >= seen[i - 1].received)));
    assert.ok(!existsSync(`${path}.part`));
    assert.deepEqual(srv.ranges, ['']);
  });

  it('a dropped connection keeps the bytes in .part; the next run resumes with a Range request', async () => {
    const srv = await serveBody(BODY, { dropRequests: 1, dropAfter: 120_000 });
    const path = fresh();
    const err = await rejects(download({ url: srv.url, dest: path, md5: MD5, retries: 0 }));
    assert.equal(err.transient, true);
    assert.match(err.message, /dropped after \d+ of 300000 bytes.*bytes are kept in .*file\.tar\.gz\.part; run the command again to resume/);
    assert.ok(!existsSync(path), 'nothing under the final name');
    const kept = statSync(`${path}.part`).size;
    assert.ok(kept > 0 && kept <= 120_000, `kept ${kept}`);
    assert.deepEqual(readFileSync(`${path}.part`), BODY.subarray(0, kept));

    const r = await download({ url: srv.url, dest: path, md5: MD5, retries: 0 });
    assert.deepEqual(srv.ranges, ['', `bytes=${kept}-`]);
    assert.equal(r.resumedFrom, kept);
    assert.deepEqual(readFileSync(path), BODY);
  });

  it('retries resume within one call', async () => {
    const srv = await serveBody(BODY, { dropRequests: 2, dropAfter: 50_000 });
    const path = fresh();
    const retried: number[] = [];
    const r = await download({ url: srv.url, dest: path, md5: MD5, retries: 3, retryDelayMs: 0, onRetry: (_e, a) => retried.push(a) });
    assert.deepEqual(retried, [1, 2]);
    assert.equal(r.requests, 3);
    assert.equal(srv.ranges[0], '');
    const [a, b] = srv.ranges.slice(1).map((h) => Number(/bytes=(\d+)-/.exec(h)?.[1]));
    assert.ok(a > 0 && b > a, `ranges ${srv.ranges.join(' ')}`);
    assert.deepEqual(readFileSync(path), BODY);
  });

  it('a server that ignores Range sends everything again; the stale .part is overwritten', async () => {
    const srv = await serveBody(BODY, { ignoreRange: true });
    const path = fresh();
    writeFileSync(`${path}.part`, Buffer.alloc(1000, 7)); // bytes that are not the file's start
    await download({ url: srv.url, dest: path, md5: MD5 });
    assert.deepEqual(srv.ranges, ['bytes=1000-']);
    assert.deepEqual(readFileSync(path), BODY);
  });

  it('a .part that is already complete is verified without fetching the body again (416)', async () => {
    const srv = await serveBody(BODY);
    const path = fresh();
    writeFileSync(`${path}.part`, BODY);
    await download({ url: srv.url, dest: path, md5: MD5 });
    assert.deepEqual(srv.ranges, [`bytes=${BODY.length}-`]);
    assert.deepEqual(readFileSync(path), BODY);
  });

  it('checksum mismatch: clear error, the bad download is deleted, nothing under the final name', async () => {
    const srv = await serveBody(BODY);
    const path = fresh();
    const wrong = '0'.repeat(32);
    const err = await rejects(download({ url: srv.url, dest: path, md5: wrong }));
    assert.equal(err.transient, false);
    assert.ok(err.message.includes(`MD5 of the 300000 bytes received is ${MD5}, expected ${wrong}`), err.message);
    assert.deepEqual(readdirSync(join(path, '..')), ['.keep']);
  });

  it('HTTP errors are not retried; redirects are followed; a verified file is not fetched again', async () => {
    const missing = await serveBody(BODY, { status: 404 });
    const e404 = await rejects(download({ url: missing.url, dest: fresh(), md5: MD5, retries: 3 }));
    assert.match(e404.message, /HTTP 404/);
    assert.equal(missing.ranges.length, 1);

    const srv = await serveBody(BODY, { redirectFrom: '/old' });
    const path = fresh();
    await download({ url: srv.url.replace('/file.tar.gz', '/old'), dest: path, md5: MD5 });
    assert.deepEqual(readFileSync(path), BODY);
    const again = await download({ url: srv.url, dest: path, md5: MD5 });
    assert.equal(again.cached, true);
    assert.equal(srv.ranges.length, 1);
  });
});
