// One measurement of the importance bench suite, in its own process: the time of one whole
// estimate of each measure on a freshly initialised model of one architecture, on the backend
// FLOWPRUNE_BACKEND names (default: the usual choice), as JSON lines on stdout. The data is the
// synthetic benchmark data that tools/bench/torch_importance.py reads too.
//   node --import tsx tools/bench/src/bench-importance-worker.ts <arch> <measures> <imp samples> <batch size>
import { getMeasure, resolveParams, type ImportanceData, type SampleBatch } from '@flowprune/importance';
import { buildNetwork, Model, parseArch } from '@flowprune/models';
import { initBackend } from '@flowprune/tensor';
import { syntheticBatch } from './synthetic-batches.js';

export interface ImportanceRecord {
  arch: string;
  measure: string;
  backend: string;
  threads: number;
  seconds: number;
  samples: number;
}

const NUM_CLASSES = 10;
const [archArg, measuresArg, impArg, bsArg] = process.argv.slice(2);
const arch = parseArch(archArg ?? '');
const impSamples = Number(impArg);
const bs = Number(bsArg);
if (!(impSamples >= NUM_CLASSES && bs >= NUM_CLASSES)) throw new Error('usage: bench-importance-worker.ts <arch> <measures> <imp samples> <batch size>');

// As torch_importance.py: ceil(imp / bs) batches for the first-order measures; enough more for
// int(imp / 10) images of every class (labels cycle, so some classes get bs / 10 rounded down).
const perClass = Math.trunc(impSamples / NUM_CLASSES);
const firstOrderBatches = Math.ceil(impSamples / bs);
const pool = Array.from({ length: Math.max(firstOrderBatches, Math.ceil(perClass / Math.trunc(bs / NUM_CLASSES))) }, (_, i) => syntheticBatch(i, bs));

function classGroup(c: number, n: number): SampleBatch {
  const per = 32 * 32 * 3;
  const pixels = new Uint8Array(n * per);
  let k = 0;
  for (const b of pool)
    for (let j = 0; j < b.count && k < n; j++)
      if (b.labels[j] === c) pixels.set(b.pixels.subarray(j * per, (j + 1) * per), per * k++);
  if (k < n) throw new Error(`only ${k} images of class ${c}; need ${n}`);
  return { count: n, height: 32, width: 32, channels: 3, pixels, labels: new Array<number>(n).fill(c) };
}

const data: ImportanceData = {
  batches: () =>
    (async function* () {
      yield* pool.slice(0, firstOrderBatches);
    })(),
  classGroups: async (n, classes) => Array.from({ length: classes }, (_, c) => classGroup(c, n)),
};

const info = await initBackend({ log: () => undefined });
for (const name of (measuresArg ?? '').split(',')) {
  const measure = getMeasure(name);
  const model = Model.init(buildNetwork(arch, NUM_CLASSES), 0);
  const params = resolveParams(measure.info, measure.info.parameters.some((p) => p.name === 'imp_samples') ? { imp_samples: impSamples } : {});
  const t0 = performance.now();
  const result = await measure.compute({ model, params, data });
  const seconds = (performance.now() - t0) / 1000;
  if (!result.scores.every((layer) => layer.every(Number.isFinite))) throw new Error(`${name}: non-finite scores`);
  const rec: ImportanceRecord = { arch, measure: name, backend: info.name, threads: info.threads, seconds, samples: result.samplesUsed };
  console.log(JSON.stringify(rec));
  model.dispose();
}
