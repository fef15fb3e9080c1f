// The `latency` bench suite: flowprune's native eval against ONNX Runtime CPU on the same models
// (each architecture exported to ONNX by flowprune), at batch 1 and the bench's batch size, the same
// thread count for both, printed as ratios (above 1: flowprune is faster), each side's GFLOP/s and
// its share of the machine's measured peak (measuredPeak in bench-backends.ts):
//   vgg13 eval b=128 native 310.2 img/s (p50 412.6 ms, 194 GFLOP/s, 81% of peak) | onnxruntime ... | 1.02x
// On a shared, loaded machine the two sides run interleaved, `rounds` times each, and the medians count.
import { buildNetwork, countMacs, Model, type ArchName } from '@flowprune/models';
import { encodeOnnx, flowpruneLatency, modelToOnnx, onnxRuntimeLatency, type LatencyStats } from '@flowprune/onnx';
import { initBackend } from '@flowprune/tensor';
import { benchThreads, measuredPeak, rateOfPeak } from './bench-backends.js';

export interface LatencyBenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function latencyRatios(o: LatencyBenchOptions, rounds = 3): Promise<void> {
  const info = await initBackend({ log: () => undefined });
  const threads = benchThreads();
  const batches = [...new Set([1, o.batchSize])];
  const peak = measuredPeak();
  console.log(`\n== eval latency: flowprune (${info.name}, ${info.threads} thread(s)) vs ONNX Runtime CPU (${threads} thread(s)), same ONNX-exported models, ${rounds} interleaved rounds of ${o.steps} timed runs after 2 warm-up, medians ==`);
  console.log(peak?.line ?? 'peak probe: unavailable (no native addon)');
  for (const arch of o.archs) {
    const model = Model.init(buildNetwork(arch, 10), 0);
    const bytes = encodeOnnx(modelToOnnx(model));
    // Forward FLOPs per image: two per multiply-accumulate of the convolutions and the classifier.
    const flops = 2 * countMacs(model.net);
    for (const batch of batches) {
      const run = { batch, warmup: 2, runs: o.steps, threads };
      const ours: LatencyStats[] = [];
      const ort: LatencyStats[] = [];
      // Interleaved, so load on a shared machine hits both alike; medians of the rounds' p50s.
      for (let r = 0; r < rounds; r++) {
        ours.push(await flowpruneLatency(model, [3, 32, 32], run));
        ort.push(await onnxRuntimeLatency(bytes, run, arch));
      }
      const p50 = (s: LatencyStats[]) => median(s.map((x) => x.p50Ms));
      const fmt = (s: LatencyStats[]) => {
        const ms = p50(s);
        const ips = (1000 * batch) / ms;
        return `${ips.toFixed(1)} img/s (p50 ${ms.toFixed(1)} ms, ${rateOfPeak(ips, flops, peak?.gflops)})`;
      };
      console.log(`${arch} eval b=${batch} ${info.name} ${fmt(ours)} | onnxruntime ${fmt(ort)} | ${(p50(ort) / p50(ours)).toFixed(2)}x`);
    }
    model.dispose();
  }
}
