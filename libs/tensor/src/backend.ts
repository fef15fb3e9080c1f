// Chooses and initialises the tfjs compute backend once per process.
//
// Order: @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (both optional, never dependencies:
// loaded with import() so a missing package is just skipped), then native (flowprune's oneDNN
// addon, built at install when oneDNN is present), then wasm (with our training kernels), then
// cpu. FLOWPRUNE_BACKEND forces one choice; opts.prefer only moves one to the front.
// FLOWPRUNE_THREADS sets the native backend's thread count (default: all cores).
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { registerNativeBackend } from './native-backend.js';
import { NATIVE_BACKEND } from './native-kernel.js';
import { registerWasmTrainingKernels } from './wasm-training-kernels.js';

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow', 'native', 'wasm' or 'cpu'. */
  name: string;
  /** npm package that provides it. */
  package: string;
  /** True only when a GPU device is verified to be in use. */
  gpu: boolean;
  /** Compute threads the backend uses for one op. */
  threads: number;
  note?: string;
}

export interface InitBackendOptions {
  /** Soft preference: tried first, then the usual order. FLOWPRUNE_BACKEND wins over it. */
  prefer?: string;
  /** Receives the one-line summary of the choice (default: console.error). */
  log?: (msg: string) => void;
}

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
type Choice = Exclude<(typeof BACKEND_CHOICES)[number], 'auto'>;
const AUTO_ORDER: readonly Choice[] = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];
const ENV_VAR = 'FLOWPRUNE_BACKEND';
const THREADS_VAR = 'FLOWPRUNE_THREADS';

interface Attempt {
  info?: BackendInfo;
  /** Why this choice was not taken (package missing, failed to initialise, ...). */
  skipped?: string;
}

let pending: Promise<BackendInfo> | undefined;
let current: BackendInfo | undefined;
const localRequire = createRequire(import.meta.url);

/** The backend chosen by initBackend, or undefined before it has finished. */
export function getBackendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Selects, initialises and activates the compute backend. Idempotent: later calls (also
 * concurrent ones) return the first call's result and ignore their options.
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  pending ??= select(opts).then(
    (info) => (current = info),
    (err: unknown) => {
      pending = undefined; // a failed init (e.g. bad FLOWPRUNE_BACKEND) may be retried after fixing it
      throw err;
    },
  );
  return pending;
}

function parseChoice(value: string, source: string): Choice | 'auto' {
  const v = value.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as Choice | 'auto';
  throw new Error(`${source}='${value}' is not a known backend; valid choices: ${BACKEND_CHOICES.join(', ')}`);
}

async function select(opts: InitBackendOptions): Promise<BackendInfo> {
  const log = opts.log ?? ((msg: string) => console.error(msg));
  const forced = process.env[ENV_VAR];
  if (forced !== undefined && forced.trim() !== '') {
    const choice = parseChoice(forced, ENV_VAR);
    if (choice !== 'auto') {
      const attempt = await tryChoice(choice, true);
      if (!attempt.info) {
        throw new Error(
          `${ENV_VAR}=${forced}: backend could not be loaded (${attempt.skipped ?? 'unknown reason'}); ` +
            `valid choices: ${BACKEND_CHOICES.join(', ')}`,
        );
      }
      log(summary(attempt.info, `forced by ${ENV_VAR}`));
      return attempt.info;
    }
  }
  const preferred = opts.prefer ? parseChoice(opts.prefer, 'initBackend prefer') : 'auto';
  const order = preferred === 'auto' ? AUTO_ORDER : [preferred, ...AUTO_ORDER.filter((c) => c !== preferred)];
  const skipped: string[] = [];
  for (const choice of order) {
    const attempt = await tryChoice(choice, false);
    if (attempt.info) {
      const why = skipped.length ? `skipped ${skipped.join('; ')}` : 'first available';
      log(summary(attempt.info, why));
      return attempt.info;
    }
    skipped.push(`${choice}: ${attempt.skipped ?? 'unavailable'}`);
  }
  throw new Error(`no tfjs backend could be initialised (${skipped.join('; ')})`);
}

function summary(info: BackendInfo, why: string): string {
  const gpu = info.gpu ? 'GPU' : 'CPU';
  const note = info.note ? `; ${info.note}` : '';
  return `[flowprune/tensor] backend ${info.name} (${info.package}, ${gpu}, ${info.threads} thread(s)) - ${why}${note}`;
}

function isModuleMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(pkg);
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? err.name : String(err);
}

async function tryChoice(choice: Choice, explicit: boolean): Promise<Attempt> {
  switch (choice) {
    case 'tensorflow-gpu': {
      const attempt = await tryTensorflow('@tensorflow/tfjs-node-gpu');
      // Only an explicit request insists on a GPU; otherwise native TF on CPU still beats wasm.
      if (explicit && attempt.info && !attempt.info.gpu) return { skipped: attempt.info.note ?? 'no GPU device' };
      return attempt;
    }
    case 'tensorflow': {
      // Either native package will do; the GPU build first since it also runs on CPU.
      const gpu = await tryTensorflow('@tensorflow/tfjs-node-gpu');
      if (gpu.info) return gpu;
      const cpu = await tryTensorflow('@tensorflow/tfjs-node');
      if (cpu.info) return cpu;
      // In the auto order tensorflow-gpu has already reported its own reason.
      return { skipped: explicit ? `${gpu.skipped ?? ''}; ${cpu.skipped ?? ''}` : (cpu.skipped ?? 'unavailable') };
    }
    case 'native':
      return tryNative();
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

/**
 * Describes an initialised 'tensorflow' backend. tfjs-node-gpu falls back to CPU silently when
 * CUDA 11.2 / cuDNN 8.1 cannot be loaded; its NodeJSKernelBackend exposes `isUsingGpuDevice`
 * (set by the native binding when TensorFlow created a GPU device), which is what we trust.
 * Exported for tests.
 */
export function tensorflowBackendInfo(pkg: string, backend: unknown): BackendInfo {
  const flag = (backend as { isUsingGpuDevice?: unknown } | null)?.isUsingGpuDevice;
  const base = { name: 'tensorflow', package: pkg, threads: availableParallelism() };
  if (!pkg.endsWith('-gpu')) return { ...base, gpu: false };
  if (flag === true) {
    return { ...base, gpu: true, note: 'GPU verified: tfjs-node binding reports isUsingGpuDevice (TensorFlow created a GPU device)' };
  }
  if (flag === false) {
    return {
      ...base,
      gpu: false,
      note: 'tfjs-node-gpu found no usable GPU and runs on CPU (needs CUDA 11.2 + cuDNN 8.1 on the library path)',
    };
  }
  return { ...base, gpu: false, note: 'GPU use not verifiable (backend has no isUsingGpuDevice flag); assuming CPU' };
}

// Memoised per package: a package is imported at most once (both native builds register the
// same 'tensorflow' backend), and the auto order asks for tfjs-node-gpu twice.
const tensorflowAttempts = new Map<string, Promise<Attempt>>();

function tryTensorflow(pkg: string): Promise<Attempt> {
  let attempt = tensorflowAttempts.get(pkg);
  if (!attempt) {
    attempt = loadTensorflow(pkg);
    tensorflowAttempts.set(pkg, attempt);
  }
  return attempt;
}

async function loadTensorflow(pkg: string): Promise<Attempt> {
  try {
    await import(/* optional, not a dependency */ pkg);
  } catch (err) {
    return { skipped: isModuleMissing(err, pkg) ? `${pkg} not installed` : `${pkg} failed to load: ${firstLine(err)}` };
  }
  if (!(await tf.setBackend('tensorflow'))) return { skipped: `${pkg} loaded but the 'tensorflow' backend did not initialise` };
  return { info: tensorflowBackendInfo(pkg, tf.backend()) };
}

/** Emscripten's Node glue installs uncaughtException/unhandledRejection handlers that rethrow,
 * which makes Node print the whole minified wasm glue line with every uncaught error. */
function withoutEmscriptenProcessHandlers<T>(init: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const events: string[] = ['uncaughtException', 'unhandledRejection'];
  const emitter: NodeJS.EventEmitter = process; // untyped view: Process only types its listeners per event
  const listeners = (e: string): Listener[] => emitter.listeners(e) as Listener[];
  const before = events.map((e) => new Set(listeners(e)));
  return init().finally(() => {
    events.forEach((e, i) => {
      for (const l of listeners(e)) if (!before[i]?.has(l)) emitter.removeListener(e, l);
    });
  });
}

const WASM_PKG = '@tensorflow/tfjs-backend-wasm';

/** Imports the wasm backend (its kernels and ours) without initialising it. */
async function prepareWasm(): Promise<typeof import('@tensorflow/tfjs-backend-wasm')> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Point at the installed .wasm binaries explicitly: the default (the glue's own __dirname)
  // breaks as soon as flowprune is bundled. Harmless if wasm was already initialised.
  wasm.setWasmPaths(path.dirname(localRequire.resolve(WASM_PKG)) + path.sep);
  registerWasmTrainingKernels();
  return wasm;
}

function threadsWanted(): number {
  const raw = process.env[THREADS_VAR];
  const n = raw === undefined || raw.trim() === '' ? availableParallelism() : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${THREADS_VAR}='${raw}' is not a positive integer`);
  return n;
}

async function tryNative(): Promise<Attempt> {
  try {
    await prepareWasm();
    const reg = registerNativeBackend(threadsWanted());
    if (!reg.ok) return { skipped: reg.reason };
    const ok = await withoutEmscriptenProcessHandlers(() => tf.setBackend(NATIVE_BACKEND));
    if (!ok) return { skipped: 'native backend (wasm storage) did not initialise' };
    return {
      info: {
        name: NATIVE_BACKEND,
        package: '@flowprune/tensor native addon',
        gpu: false,
        threads: reg.threads,
        note: `${reg.detail}; convolutions, matmul, pooling, BatchNorm, ReLU, adds native; other kernels from wasm`,
      },
    };
  } catch (err) {
    return { skipped: `native failed: ${firstLine(err)}` };
  }
}

async function tryWasm(): Promise<Attempt> {
  const pkg = WASM_PKG;
  try {
    const wasm = await prepareWasm();
    const ok = await withoutEmscriptenProcessHandlers(() => tf.setBackend('wasm'));
    if (!ok) return { skipped: 'wasm backend did not initialise' };
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return {
      info: {
        name: 'wasm',
        package: pkg,
        gpu: false,
        threads: wasm.getThreadsCount(),
        note: `XNNPACK${simd ? ' SIMD' : ''}; conv2d/depthwise training kernels from @flowprune/tensor`,
      },
    };
  } catch (err) {
    return { skipped: `wasm failed: ${firstLine(err)}` };
  }
}

async function tryCpu(): Promise<Attempt> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) return { skipped: 'cpu backend did not initialise' };
    return { info: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false, threads: 1 } };
  } catch (err) {
    return { skipped: `cpu failed: ${firstLine(err)}` };
  }
}
