// Registers tfjs-core's gradient functions and chained tensor methods (x.sum(), x.reshape(), ...).
//
// Why this exists: '@tensorflow/tfjs-core' resolves in Node to its CommonJS bundle, which contains
// no gradient registrations; those live only in the ESM files under dist/ (normally pulled in by
// the '@tensorflow/tfjs' union package, which flowprune does not depend on). Those ESM files use
// extensionless and file-vs-directory-ambiguous specifiers ('../gradients'), so neither Node nor
// tsx can import them. We bundle them once with esbuild (already installed: tsx depends on it) and
// evaluate the result. The bundle carries a second copy of tfjs-core internals, which tfjs
// tolerates by design: engine, kernel/gradient registries and the Tensor class are shared through
// tfjs's global namespace, so the registrations land in the engine that '@tensorflow/tfjs-core' uses.
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

type Esbuild = typeof import('esbuild');

const ENTRY = [
  "import './register_all_gradients.js';",
  "import './public/chained_ops/register_all_chained_ops.js';",
].join('\n');

const localRequire = createRequire(import.meta.url);

function bundle(distDir: string): string {
  const esbuild = localRequire('esbuild') as Esbuild;
  const out = esbuild.buildSync({
    stdin: { contents: ENTRY, resolveDir: distDir, sourcefile: 'flowprune-tfjs-core-gradients.js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    packages: 'external',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the tfjs-core gradient bundle');
  return file.text;
}

/** Reads the bundle from node_modules/.cache, building (and caching, best effort) on a miss. */
function loadBundleSource(coreMain: string): string {
  const pkgDir = path.resolve(path.dirname(coreMain), '..');
  const version = (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const key = createHash('sha256').update(`${version}\n${ENTRY}`).digest('hex').slice(0, 16);
  const cacheDir = path.resolve(pkgDir, '..', '..', '.cache', 'flowprune-tensor');
  const cacheFile = path.join(cacheDir, `tfjs-core-${version}-gradients-${key}.cjs`);
  try {
    return readFileSync(cacheFile, 'utf8');
  } catch {
    // cache miss: build below
  }
  const code = bundle(path.dirname(coreMain));
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, cacheFile); // atomic: concurrent test processes never read a partial file
  } catch {
    // read-only install: keep the in-memory bundle, rebuild next process
  }
  return code;
}

function registerCoreGradients(): void {
  // Make sure the CommonJS engine (and its Tensor class) exists before the bundled copy looks
  // for a global one, so the bundled copy adopts it instead of creating its own.
  tf.engine();
  const coreMain = localRequire.resolve('@tensorflow/tfjs-core');
  const source = loadBundleSource(coreMain);
  const wrapper = vm.runInThisContext(`(function (exports, require, module) {${source}\n})`, {
    filename: 'flowprune-tfjs-core-gradients.cjs',
  }) as (exports: object, req: NodeJS.Require, module: { exports: object }) => void;
  const mod = { exports: {} };
  wrapper(mod.exports, createRequire(coreMain), mod);
  if (tf.getGradient(tf.Conv2D) === undefined) {
    throw new Error('registering tfjs-core gradients failed: no gradient for Conv2D after loading the bundle');
  }
}

registerCoreGradients();
