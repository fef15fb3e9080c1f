// The `backends` bench suite: training and eval images/s of each architecture on every available
// flowprune backend and on PyTorch CPU (same machine, same thread count, same synthetic data),
// measured one architecture at a time with the two frameworks back to back, printed as ratios:
//   vgg13 train native 152.3 img/s | pytorch 137.0 img/s | 1.11x
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { buildNetwork, countMacs, type ArchName } from '@flowprune/models';
import { fmaPeakProbe, loadNativeAddon, sgemmPeakProbe } from '@flowprune/tensor';
import { findTorchPython, runTorchScript } from './bench-pytorch.js';
import type { WorkerRecord } from './bench-worker.js';
import { runBenchWorker } from './worker-process.js';

export interface BackendsBenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
  /** flowprune backends to measure; default: every one that loads here. */
  backends?: string[];
}

interface TorchRecord {
  arch: string;
  mode: 'train' | 'eval';
  img_s: number;
  threads: number;
}

const MODES = ['train', 'eval'] as const;

/** The flowprune backends that can run here, fastest first (cpu is left out: hours per step). */
export function availableBackends(): string[] {
  const require = createRequire(import.meta.url);
  const installed = (pkg: string): boolean => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  const out: string[] = [];
  if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) out.push('tensorflow');
  if (loadNativeAddon().addon) out.push('native');
  out.push('wasm');
  return out;
}

/** The thread count flowprune's native backend uses (and PyTorch is given). */
export function benchThreads(): number {
  const n = Number(process.env['FLOWPRUNE_THREADS']);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

const runWorker = (backend: string, arch: ArchName, o: BackendsBenchOptions) =>
  runBenchWorker<WorkerRecord>('bench-worker.ts', [arch, String(o.batchSize), String(o.steps), MODES.join(',')], backend);

const rate = (v: number): string => `${v.toFixed(1)} img/s`;

/**
 * The machine's fp32 peak as the bench measures it: independent 8-wide FMAs on each of the bench's
 * threads (fmaPeakProbe), what the cores can do at most. A 2048³ oneDNN sgemm is printed beside it,
 * as what a large, well-blocked matrix product reaches (~90 % of the FMA peak on an idle AVX2
 * machine). Both with the load average, since a loaded machine lowers them; undefined without the
 * native addon or without AVX2/FMA.
 */
export function measuredPeak(): { gflops: number; line: string } | undefined {
  const fma = fmaPeakProbe(benchThreads(), 5);
  if (!fma) return undefined;
  const sgemm = sgemmPeakProbe(2048, 3);
  const load = loadavg()[0]!.toFixed(1);
  const sgemmNote = sgemm ? `; 2048^3 sgemm (oneDNN) ${sgemm.gflops.toFixed(0)} GFLOP/s (${((100 * sgemm.gflops) / fma.gflops).toFixed(0)}% of it)` : '';
  // Rates below count a direct convolution's multiply-adds: flowprune's Winograd 3x3 layers do 2.25x
  // fewer, so its share can pass 100 % (an effective rate, comparable across engines).
  const line = `peak probe: FMA ${fma.gflops.toFixed(0)} GFLOP/s on ${benchThreads()} thread(s)${sgemmNote}; load average ${load} on ${availableParallelism()} cores; rates count direct-convolution FLOPs (Winograd layers do fewer: shares can pass 100%)`;
  return { gflops: fma.gflops, line };
}

/** "12.3 GFLOP/s, 45% of peak" for `imagesPerSecond` of `flopsPerImage` each. */
export function rateOfPeak(imagesPerSecond: number, flopsPerImage: number, peak: number | undefined): string {
  const gflops = (imagesPerSecond * flopsPerImage) / 1e9;
  return `${gflops.toFixed(0)} GFLOP/s${peak ? `, ${((100 * gflops) / peak).toFixed(0)}% of peak` : ''}`;
}


export function backendsThroughput(o: BackendsBenchOptions): void {
  const backends = o.backends ?? availableBackends();
  const threads = benchThreads();
  const torch = findTorchPython();
  const torchNote = 'reason' in torch ? `PyTorch unavailable: ${torch.reason}` : `PyTorch ${torch.version} CPU (${torch.python}), ${threads} thread(s)`;
  console.log(`\n== training and eval throughput: flowprune (${backends.join(', ')}) vs PyTorch, batch ${o.batchSize}, ${o.steps} timed steps after 1 warm-up ==`);
  console.log(torchNote);
  const peak = measuredPeak();
  console.log(peak?.line ?? 'peak probe: unavailable (no native addon)');
  for (const arch of o.archs) {
    // FLOPs per image: 2 per multiply-accumulate forward; a training step as 3 forwards (forward,
    // input gradient, weight gradient).
    const forward = 2 * countMacs(buildNetwork(arch, 10));
    const flopsOf = (mode: (typeof MODES)[number]) => (mode === 'train' ? 3 * forward : forward);
    const ours = new Map(backends.map((b) => [b, runWorker(b, arch, o)] as const));
    let theirs: TorchRecord[] | { error: string };
    try {
      theirs = 'reason' in torch ? { error: torch.reason } : runTorchScript<TorchRecord>(torch, 'torch_bench.py', [
        '--archs', arch, '--batch-size', String(o.batchSize), '--steps', String(o.steps), '--threads', String(threads),
      ]);
    } catch (e) {
      theirs = { error: (e as Error).message };
    }
    for (const mode of MODES) {
      const ref = Array.isArray(theirs) ? theirs.find((t) => t.mode === mode) : undefined;
      for (const [backend, recs] of ours) {
        const head = `${arch} ${mode} ${backend}`;
        if (!Array.isArray(recs)) {
          console.log(`${head} failed: ${recs.error}`);
          continue;
        }
        const mine = recs.find((r) => r.mode === mode);
        if (!mine) continue;
        const label = `${head} ${rate(mine.imgPerSec)} (${mine.threads} thread${mine.threads === 1 ? '' : 's'}, ${rateOfPeak(mine.imgPerSec, flopsOf(mode), peak?.gflops)})`;
        if (ref) console.log(`${label} | pytorch ${rate(ref.img_s)} (${rateOfPeak(ref.img_s, flopsOf(mode), peak?.gflops)}) | ${(mine.imgPerSec / ref.img_s).toFixed(2)}x`);
        else console.log(`${label} | pytorch n/a (${Array.isArray(theirs) ? 'no record' : theirs.error})`);
      }
    }
  }
}
