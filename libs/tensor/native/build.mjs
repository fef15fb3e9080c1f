#!/usr/bin/env node
// Builds flowprune_native (the `native` tfjs backend) with node-gyp when oneDNN is installed.
// Runs as the root package's `install` script, so it never fails the install: without oneDNN, a
// C++ compiler or node-gyp it prints one line and exits 0, and flowprune uses the wasm backend.
//
//   node libs/tensor/native/build.mjs        (also: npm run build:native)
//   FLOWPRUNE_NATIVE=off                     skip the build
//   FLOWPRUNE_NATIVE=require                 fail (exit 1) instead of falling back
//   DNNLROOT=/opt/onednn                     where oneDNN is, if not in a standard place
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addonFile = path.join(here, 'build', 'Release', 'flowprune_native.node');
const mode = (process.env.FLOWPRUNE_NATIVE ?? '').trim().toLowerCase();

function giveUp(reason, detail) {
  if (detail) console.error(detail);
  console.error(`native backend not built: ${reason}; using wasm`);
  process.exit(mode === 'require' ? 1 : 0);
}

/** Directory pairs (include, lib) where a oneDNN install may be, most specific first. */
function candidates() {
  const roots = [process.env.DNNLROOT, process.env.DNNL_ROOT, process.env.CONDA_PREFIX, '/opt/homebrew', '/usr/local', '/usr'];
  const multiarch = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim();
  const out = [];
  for (const root of roots.filter(Boolean)) {
    for (const lib of [multiarch && path.join(root, 'lib', multiarch), path.join(root, 'lib64'), path.join(root, 'lib')].filter(Boolean)) {
      out.push({ include: path.join(root, 'include'), lib });
    }
  }
  return out;
}

function findOneDnn() {
  for (const c of candidates()) {
    const header = existsSync(path.join(c.include, 'oneapi', 'dnnl', 'dnnl.hpp'));
    const library = ['libdnnl.so', 'libdnnl.dylib'].some((f) => existsSync(path.join(c.lib, f)));
    if (header && library) return c;
  }
  return undefined;
}

/** node-gyp: npm's own copy (npm sets npm_config_node_gyp for scripts), else an installed one. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const require = createRequire(import.meta.url);
  for (const spec of ['node-gyp/bin/node-gyp.js', path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]) {
    try {
      return require.resolve(spec);
    } catch {
      // try the next place
    }
  }
  return undefined;
}

if (mode === 'off' || mode === '0' || mode === 'false') giveUp('FLOWPRUNE_NATIVE=off');
const dnnl = findOneDnn();
if (!dnnl) giveUp('oneDNN not found (Debian/Ubuntu: apt-get install -y libdnnl-dev; or set DNNLROOT)');
const nodeGyp = findNodeGyp();
if (!nodeGyp) giveUp('node-gyp not found (it ships with npm; run this through npm, or npm install -g node-gyp)');

/** Node's headers installed next to this node binary (distribution packages do): no download needed. */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return undefined; // npm passes the user's setting on
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const nodeDir = localNodeDir();
const started = Date.now();
const res = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--jobs', 'max', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])], {
  cwd: here,
  encoding: 'utf8',
  env: { ...process.env, FLOWPRUNE_DNNL_INCLUDE: dnnl.include, FLOWPRUNE_DNNL_LIB: dnnl.lib },
});
if (res.status !== 0) {
  const log = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
  giveUp(`the C++ build failed (node-gyp exit ${res.status ?? res.signal}; needs a C++17 compiler and Python 3)`, log);
}

// Load it once here: a build that links but cannot load (missing runtime library) must not be
// left behind for the backend selection to trip over.
try {
  const addon = createRequire(import.meta.url)(addonFile);
  console.error(`native backend built: ${addon.info()} (${dnnl.include}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
} catch (err) {
  rmSync(addonFile, { force: true });
  giveUp(`the built addon does not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
}
