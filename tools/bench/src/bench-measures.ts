// `flowprune bench --suites measures`: the time of every importance measure on each paper
// architecture, on the active backend, at a small fixed budget. Each measure is timed on its own
// (no statistics shared), after one warm-up estimate per architecture.
import { buildNetwork, Model, parseArch, type ArchName } from '@flowprune/models';
import { batchListData, BUILTIN_MEASURES, initWeightsFromSafeTensors, resolveParams, splitIntoBatches, StatisticsCache, type ImportanceMeasure } from '@flowprune/importance';
import { initBackend, tf } from '@flowprune/tensor';

export interface MeasuresBenchOptions {
  /** Batch size of the first-order measures. */
  batchSize: number;
  /** imp_samples (Hessian measures: int(samples / 10) images per class). */
  samples: number;
}

/** The paper's architectures that libs/models builds. */
function paperArchs(): ArchName[] {
  return (['vgg13', 'resnet56', 'mobilenet_v1'] as const).filter((a) => {
    try {
      buildNetwork(parseArch(a), 10);
      return true;
    } catch {
      return false;
    }
  });
}

function syntheticData(n: number, batchSize: number) {
  const pixels = Uint8Array.from({ length: n * 3072 }, (_, j) => (j * 31 + Math.floor(j / 3072) * 7) % 256);
  return batchListData(splitIntoBatches(pixels, Array.from({ length: n }, (_, i) => i % 10), batchSize));
}

async function timed(m: ImportanceMeasure, model: Model, o: MeasuresBenchOptions, init: Map<string, Float32Array>, exact = 0): Promise<number> {
  const params = resolveParams(m.info, Object.fromEntries(m.info.parameters.filter((p) => p.name === 'imp_samples' || p.name === 'exact_decisions').map((p) => [p.name, p.name === 'imp_samples' ? o.samples : exact])));
  const start = performance.now();
  await m.compute({ model, params, data: syntheticData(o.samples, o.batchSize), initWeights: init, cache: new StatisticsCache() });
  return (performance.now() - start) / 1000;
}

export async function measureTimes(o: MeasuresBenchOptions): Promise<void> {
  const info = await initBackend({ log: () => undefined });
  const perClass = Math.trunc(o.samples / 10);
  console.log(
    `\n== importance measures: backend ${info.name} (${info.package}, ${info.threads} thread(s)); first-order: ${o.samples} images in batches of ${o.batchSize}; Hessian: ${perClass} per class x 10 classes ==`,
  );
  console.log(`${'arch'.padEnd(13)}${'measure'.padEnd(29)}${'seconds'.padStart(9)}${'ms/image'.padStart(10)}${'x loss_based'.padStart(14)}`);
  for (const arch of paperArchs()) {
    const model = Model.init(buildNetwork(arch, 10), 0);
    const initModel = Model.init(buildNetwork(arch, 10), 1); // θ₀ for the *_init measures
    const init = initWeightsFromSafeTensors(initModel.toSafeTensors(), model);
    initModel.dispose();
    const loss = BUILTIN_MEASURES.get('loss_based')!;
    await timed(loss, model, o, init); // warm-up: kernels, primitive caches
    const base = await timed(loss, model, o, init);
    const rows: [string, number, number][] = [];
    for (const m of BUILTIN_MEASURES.values()) {
      const s = m.info.name === 'loss_based' ? base : await timed(m, model, o, init);
      const images = !m.info.needsData ? 0 : m.info.hessianGroups ? perClass * 10 : o.samples;
      rows.push([m.info.name, s, images]);
    }
    rows.push(['loss_based, exact_decisions=1', await timed(loss, model, o, init, 1), o.samples]);
    for (const [name, s, images] of rows)
      console.log(`${arch.padEnd(13)}${name.padEnd(29)}${s.toFixed(2).padStart(9)}${(images ? ((s * 1000) / images).toFixed(1) : '-').padStart(10)}${(s / base).toFixed(2).padStart(14)}`);
    model.dispose();
  }
  console.log(`live tensors after the suite: ${tf.memory().numTensors}`);
}
