// A loopback HTTP server for the download tests (127.0.0.1 only): serves bodies by file name with
// Range support, and can drop connections part-way or ignore Range, like flaky real servers.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after } from 'node:test';
import { create } from 'tar';

export interface ServeOptions {
  /** The first `dropRequests` requests send `dropAfter` bytes, then cut the connection. */
  dropRequests?: number;
  dropAfter?: number;
  /** Answer 200 with the whole body even when a Range is asked for. */
  ignoreRange?: boolean;
  /** Answer every request with this status and no body. */
  status?: number;
  /** Path that redirects (302) to the body's path. */
  redirectFrom?: string;
}

export interface TestServer {
  /** URL of the first body. */
  url: string;
  /** URL of the folder the bodies are served from, ending in '/'. */
  base: string;
  /** Range header of each request that reached the body path ('' when none). */
  ranges: string[];
  close(): Promise<void>;
}

export function serveBody(body: Uint8Array, o: ServeOptions = {}): Promise<TestServer> {
  return serveFiles({ 'file.tar.gz': body }, o);
}

/** Serves each body at /<name>; other paths get 404. */
export async function serveFiles(bodies: Record<string, Uint8Array>, o: ServeOptions = {}): Promise<TestServer> {
  const ranges: string[] = [];
  const names = Object.keys(bodies);
  const server: Server = createServer((req, res) => {
    if (o.redirectFrom && req.url === o.redirectFrom) {
      res.writeHead(302, { location: `/${names[0]}` });
      res.end();
      return;
    }
    const body = bodies[(req.url ?? '').slice(1)];
    if (o.status || !body) {
      if (o.status) ranges.push(req.headers.range ?? '');
      res.writeHead(o.status ?? 404);
      res.end();
      return;
    }
    ranges.push(req.headers.range ?? '');
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = m && !o.ignoreRange ? Number(m[1]) : 0;
    if (start > body.length) start = body.length;
    if (m && !o.ignoreRange && start === body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    const headers: Record<string, string | number> = { 'content-type': 'application/x-gzip', 'content-length': body.length - start, 'accept-ranges': 'bytes' };
    if (m && !o.ignoreRange) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(m && !o.ignoreRange ? 206 : 200, headers);
    const rest = body.subarray(start);
    if (o.dropRequests && ranges.length <= o.dropRequests) {
      // Flush part of the body, then cut the TCP connection mid-transfer.
      res.write(rest.subarray(0, o.dropAfter ?? rest.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  after(close);
  const base = `http://127.0.0.1:${addr.port}/`;
  return { url: `${base}${names[0]}`, base, ranges, close };
}

/** gzip'd tar of `cwd/folder`, as the official archives are; returns its bytes and MD5. */
export async function tarGz(cwd: string, entries: string[], out: string, preservePaths = false): Promise<{ bytes: Buffer; md5: string }> {
  await create({ gzip: true, file: out, cwd, portable: true, preservePaths }, entries);
  const bytes = readFileSync(out);
  return { bytes, md5: createHash('md5').update(bytes).digest('hex') };
}

export const md5Of = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

