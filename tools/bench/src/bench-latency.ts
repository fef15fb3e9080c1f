// The `latency` bench suite: flowprune's native eval against ONNX Runtime CPU on the same models
// (each architecture exported to ONNX by flowprune), at batch 1 and the bench's batch size, the same
// thread count for both, printed as ratios (above 1: flowprune is faster):
//   vgg13 eval b=128 native 184.2 img/s (p50 695.1 ms) | onnxruntime 304.0 img/s (p50 421.1 ms) | 0.61x
import { buildNetwork, Model, type ArchName } from '@flowprune/models';
import { encodeOnnx, flowpruneLatency, modelToOnnx, onnxRuntimeLatency } from '@flowprune/onnx';
import { initBackend } from '@flowprune/tensor';
import { benchThreads } from './bench-backends.js';

export interface LatencyBenchOptions {
  archs: ArchName[];
  batchSize: number;
  steps: number;
}

export async function latencyRatios(o: LatencyBenchOptions): Promise<void> {
  const info = await initBackend({ log: () => undefined });
  const threads = benchThreads();
  const batches = [...new Set([1, o.batchSize])];
  console.log(`\n== eval latency: flowprune (${info.name}, ${info.threads} thread(s)) vs ONNX Runtime CPU (${threads} thread(s)), same ONNX-exported models, ${o.steps} timed runs after 2 warm-up ==`);
  for (const arch of o.archs) {
    const model = Model.init(buildNetwork(arch, 10), 0);
    const bytes = encodeOnnx(modelToOnnx(model));
    for (const batch of batches) {
      const run = { batch, warmup: 2, runs: o.steps, threads };
      // Back to back per row, so load on a shared machine hits both alike.
      const ours = await flowpruneLatency(model, [3, 32, 32], run);
      const ort = await onnxRuntimeLatency(bytes, run, arch);
      const fmt = (s: typeof ours) => `${s.imagesPerSecond.toFixed(1)} img/s (p50 ${s.p50Ms.toFixed(1)} ms)`;
      console.log(`${arch} eval b=${batch} ${info.name} ${fmt(ours)} | onnxruntime ${fmt(ort)} | ${(ort.p50Ms / ours.p50Ms).toFixed(2)}x`);
    }
    model.dispose();
  }
}
