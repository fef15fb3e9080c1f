import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { tensorflowBackendInfo } from './backend.js';
import { BACKEND_CHOICES, getBackendInfo, initBackend, loadNativeAddon, tf } from './index.js';

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');
const nativeAddon = loadNativeAddon().addon !== undefined;

/** initBackend in a fresh process (its choice is per process) with FLOWPRUNE_BACKEND set. */
function initInChild(envValue: string, extraEnv: Record<string, string> = {}): { info?: unknown; error?: string } {
  const code = `
    const m = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});
    try { console.log(JSON.stringify({ info: await m.initBackend({ log: () => {} }) })); }
    catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, FLOWPRUNE_BACKEND: envValue, ...extraEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { info?: unknown; error?: string };
}

// Order matters: the failing calls must run before the first successful init (which is final).
describe('initBackend', () => {
  test('unknown FLOWPRUNE_BACKEND names the value and the valid choices', async () => {
    process.env['FLOWPRUNE_BACKEND'] = 'metal';
    try {
      await assert.rejects(initBackend({ log: () => undefined }), (err: Error) => {
        assert.match(err.message, /FLOWPRUNE_BACKEND='metal'/);
        for (const c of BACKEND_CHOICES) assert.ok(err.message.includes(c), `choice ${c} missing: ${err.message}`);
        return true;
      });
    } finally {
      delete process.env['FLOWPRUNE_BACKEND'];
    }
    assert.equal(getBackendInfo(), undefined);
  });

  test('unknown prefer value is an error too, not silently ignored', async () => {
    await assert.rejects(initBackend({ prefer: 'webgpu', log: () => undefined }), /prefer='webgpu' is not a known backend/);
  });

  test('FLOWPRUNE_BACKEND=tensorflow without tfjs-node installed fails naming both packages', { skip: nativeInstalled }, async () => {
    process.env['FLOWPRUNE_BACKEND'] = 'tensorflow';
    try {
      await assert.rejects(initBackend({ log: () => undefined }), (err: Error) => {
        assert.match(err.message, /FLOWPRUNE_BACKEND=tensorflow/);
        assert.match(err.message, /@tensorflow\/tfjs-node-gpu not installed/);
        assert.match(err.message, /@tensorflow\/tfjs-node not installed/);
        return true;
      });
    } finally {
      delete process.env['FLOWPRUNE_BACKEND'];
    }
  });

  // native when flowprune_native is built here (and not disabled), else wasm.
  const expected = nativeAddon
    ? { name: 'native', package: '@flowprune/tensor native addon', gpu: false }
    : { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', gpu: false };

  test(`auto: picks ${expected.name} here, logs one line, is idempotent, drops emscripten process handlers`, { skip: nativeInstalled }, async () => {
    const handlersBefore = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const lines: string[] = [];
    const info = await initBackend({ log: (m) => lines.push(m) });
    assert.deepEqual({ name: info.name, package: info.package, gpu: info.gpu }, expected);
    assert.ok(info.threads >= 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', new RegExp(`backend ${expected.name} .*tfjs-node-gpu not installed`));
    assert.equal(tf.getBackend(), expected.name);
    assert.ok(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'), 'training kernels not registered');

    assert.equal(await initBackend({ prefer: 'cpu', log: (m) => lines.push(m) }), info);
    assert.equal(getBackendInfo(), info);
    assert.equal(lines.length, 1, 'second call must not log or re-select');
    assert.equal(tf.getBackend(), expected.name);
    const handlersAfter = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    assert.equal(handlersAfter, handlersBefore);
  });

  test('FLOWPRUNE_BACKEND=cpu selects cpu (fresh process)', () => {
    const res = initInChild('cpu');
    assert.deepEqual(res, { info: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false, threads: 1 } });
  });

  test('FLOWPRUNE_BACKEND=WASM is case-insensitive (fresh process)', () => {
    const res = initInChild(' WASM ') as { info?: { name?: string } };
    assert.equal(res.info?.name, 'wasm');
  });

  test('FLOWPRUNE_BACKEND=native selects the oneDNN addon (fresh process)', { skip: !nativeAddon && 'flowprune_native not built' }, () => {
    const res = initInChild('native') as { info?: { name?: string; threads?: number; note?: string } };
    assert.equal(res.info?.name, 'native');
    assert.ok((res.info?.threads ?? 0) >= 1);
    assert.match(res.info?.note ?? '', /oneDNN \d+\.\d+/);
  });

  test('FLOWPRUNE_NATIVE=off: auto skips native, naming why; forcing it fails (fresh process)', () => {
    const auto = initInChild('auto', { FLOWPRUNE_NATIVE: 'off' }) as { info?: { name?: string } };
    assert.equal(auto.info?.name, 'wasm');
    const forced = initInChild('native', { FLOWPRUNE_NATIVE: 'off' });
    assert.match(forced.error ?? '', /FLOWPRUNE_BACKEND=native: backend could not be loaded \(disabled by FLOWPRUNE_NATIVE=off\)/);
  });
});

describe('tensorflowBackendInfo (tfjs-node-gpu silent CPU fallback)', () => {
  test('GPU package with a GPU device', () => {
    const info = tensorflowBackendInfo('@tensorflow/tfjs-node-gpu', { isUsingGpuDevice: true });
    assert.equal(info.gpu, true);
    assert.match(info.note ?? '', /verified/);
  });
  test('GPU package that fell back to CPU says so', () => {
    const info = tensorflowBackendInfo('@tensorflow/tfjs-node-gpu', { isUsingGpuDevice: false });
    assert.equal(info.gpu, false);
    assert.match(info.note ?? '', /CUDA 11\.2 \+ cuDNN 8\.1/);
  });
  test('GPU package without the flag is not claimed as GPU', () => {
    const info = tensorflowBackendInfo('@tensorflow/tfjs-node-gpu', {});
    assert.equal(info.gpu, false);
    assert.match(info.note ?? '', /not verifiable/);
  });
  test('CPU package', () => {
    assert.deepEqual(
      { ...tensorflowBackendInfo('@tensorflow/tfjs-node', { isUsingGpuDevice: false }), threads: 0 },
      { name: 'tensorflow', package: '@tensorflow/tfjs-node', gpu: false, threads: 0 },
    );
  });
});
