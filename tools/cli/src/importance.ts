// `flowprune importance`: filter importance of a checkpoint on the images of a CIFAR binary file,
// in file order without augmentation (the fixtures' rules), through the estimator service (started
// on demand) or in this process. Both run the same libs/importance code on the same batches.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { idempotentCall, launchService, makeClient, rpcDefaults, scratchDir, type LaunchedService } from '@flowprune/grpc';
import { CIFAR_IMAGE_BYTES, chwToHwc, cifarRecordBytes, readCifarBinary, type CifarVariant } from '@flowprune/data';
import {
  BUILTIN_MEASURES,
  getMeasure,
  initWeightsFromSafeTensors,
  resolveParams,
  scoresInManifestOrder,
  splitIntoBatches,
  batchListData,
  StatisticsCache,
  type MeasureInfo,
  type SampleBatch,
} from '@flowprune/importance';
import { GRAPH_ARCH, Model, parseArch, prunableLayers } from '@flowprune/models';
import { ImportanceEstimatorServiceClient, type ImageBatch } from '@flowprune/proto';
import { getBackendInfo, initBackend } from '@flowprune/tensor';
import { SERVICE_ENTRIES } from './paths.js';

export interface ImportanceOptions {
  arch?: string;
  numClasses: number;
  weights: string;
  initWeights?: string;
  data: string;
  batchSize: number;
  samples: number;
  measure: string;
  T: number;
  graspT: number;
  gradPreserveT: number;
  exactDecisions: boolean;
  inProcess: boolean;
  out: string;
  verbose: boolean;
}

export class ImportanceCliError extends Error {}

const ESTIMATOR_LABEL = 'importance-estimator';

/** The file's record layout: 1 label byte (CIFAR-10 style, also used with 100 labels) or 2 (CIFAR-100). */
function variantOf(path: string): CifarVariant {
  const size = statSync(path).size;
  const variants: CifarVariant[] = ['cifar10', 'cifar100'];
  const variant = variants.find((v) => size % cifarRecordBytes(v) === 0);
  if (variant) return variant;
  const sizes = variants.map(cifarRecordBytes).join(' or ');
  throw new ImportanceCliError(`--data ${path}: ${size} bytes is not a whole number of CIFAR records (${sizes} bytes)`);
}

/** Every image of the file as NHWC batches of `batchSize`, in file order. */
export function fileBatches(path: string, numClasses: number, batchSize: number): SampleBatch[] {
  const split = readCifarBinary(path, { variant: variantOf(path), numClasses });
  const hwc = new Uint8Array(split.images.length);
  for (let i = 0; i < split.count; i++) chwToHwc(split.images, i * CIFAR_IMAGE_BYTES, hwc, i * CIFAR_IMAGE_BYTES);
  return splitIntoBatches(hwc, split.labels, batchSize);
}

/**
 * The leading batches the measures can read: first-order ones stop once imp_samples images are
 * consumed, Hessian ones take the first int(imp_samples / classes) images of every class. Sending
 * only these keeps requests small; the results are the same as with the whole file.
 */
export function neededBatches(batches: SampleBatch[], infos: MeasureInfo[], samples: number, numClasses: number): SampleBatch[] {
  let keep = 0;
  const firstOrder = infos.some((i) => i.needsData && !i.hessianGroups);
  const hessian = infos.some((i) => i.hessianGroups);
  if (firstOrder) {
    let consumed = 0;
    while (keep < batches.length && consumed < samples) consumed += batches[keep++].count;
  }
  if (hessian) {
    const perClass = Math.trunc(samples / numClasses);
    const seen = new Array<number>(numClasses).fill(0);
    let full = 0;
    let b = 0;
    for (; b < batches.length && full < numClasses; b++)
      for (let i = 0; i < batches[b].count; i++) {
        const c = batches[b].labels[i];
        if (++seen[c] === perClass) full++;
      }
    keep = Math.max(keep, full < numClasses ? batches.length : b); // short classes: let the estimator say so
  }
  return batches.slice(0, keep);
}

/** The measure's parameters from the flags: its temperature under its own name, the sample budget. */
export function measureParams(info: MeasureInfo, o: ImportanceOptions): Record<string, number> {
  const byName: Record<string, number> = {
    T: o.T,
    grasp_T: o.graspT,
    grad_preserve_T: o.gradPreserveT,
    imp_samples: o.samples,
    exact_decisions: o.exactDecisions ? 1 : 0,
  };
  const given: Record<string, number> = {};
  for (const p of info.parameters) if (byName[p.name] !== undefined) given[p.name] = byName[p.name];
  return given;
}

export function toImageBatch(b: SampleBatch, index: number): ImageBatch {
  return { index, count: b.count, height: b.height, width: b.width, channels: b.channels, pixels: Buffer.from(b.pixels), labels: Array.from(b.labels), sampleIndices: [] };
}

type Scores = Record<string, number[][]>;

function backendChoice(): string {
  const info = getBackendInfo();
  if (!info) throw new Error('initBackend has not run');
  return info.name === 'tensorflow' && info.gpu ? 'tensorflow-gpu' : info.name;
}

async function inProcess(o: ImportanceOptions, model: Model, initBytes: Uint8Array | undefined, infos: MeasureInfo[], batches: SampleBatch[]): Promise<Scores> {
  const initWeights = initBytes ? initWeightsFromSafeTensors(initBytes, model, '--init-weights') : undefined;
  const cache = new StatisticsCache();
  const data = batchListData(batches);
  const out: Scores = {};
  for (const info of infos) {
    const started = performance.now();
    const m = getMeasure(info.name);
    const r = await m.compute({ model, params: resolveParams(info, measureParams(info, o)), data, initWeights, cache });
    out[info.name] = r.scores;
    console.error(`${info.name}: ${((performance.now() - started) / 1000).toFixed(1)} s, ${r.samplesUsed} images (in process)`);
  }
  return out;
}

/** An importance-estimator started for one command, with a scratch run store; its output shows with --verbose. */
export function launchEstimator(command: string, verbose: boolean): Promise<LaunchedService> {
  return launchService({
    name: ESTIMATOR_LABEL,
    entry: SERVICE_ENTRIES[ESTIMATOR_LABEL],
    args: ['--store', scratchDir(`${command}-cli`)],
    onOutput: (line) => (verbose ? console.error(line) : undefined),
    // The same backend as this process, so both paths compute the same float32 numbers.
    env: { FLOWPRUNE_BACKEND: backendChoice() },
  });
}

async function throughService(o: ImportanceOptions, model: Model, initBytes: Uint8Array | undefined, infos: MeasureInfo[], batches: SampleBatch[]): Promise<Scores> {
  const svc = await launchEstimator('importance', o.verbose);
  const client = makeClient(ImportanceEstimatorServiceClient, svc.address);
  try {
    const modelRef = { safetensors: Buffer.from(model.toSafeTensors()) };
    const manifest = prunableLayers(model.net.filterLayers);
    const wire = batches.map(toImageBatch);
    const out: Scores = {};
    for (const info of infos) {
      const r = await idempotentCall(
        client,
        client.estimate,
        {
          model: modelRef,
          measure: info.name,
          params: measureParams(info, o),
          batches: info.needsData ? wire : [],
          initModel: initBytes && info.needsInitWeights ? { safetensors: Buffer.from(initBytes) } : undefined,
          seed: 0,
          epoch: 0,
          layers: manifest,
        },
        { name: 'importance-estimator', timeoutMs: rpcDefaults().computeDeadlineMs },
      );
      out[info.name] = scoresInManifestOrder(manifest, r.layers, `${ESTIMATOR_LABEL}@${svc.address}`);
      console.error(`${info.name}: ${r.seconds.toFixed(1)} s, ${r.samplesUsed} images (estimator ${svc.address}, ${r.backend})`);
    }
    return out;
  } finally {
    client.close();
    await svc.stop();
  }
}

export async function runImportanceCommand(o: ImportanceOptions): Promise<void> {
  const names = o.measure.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !BUILTIN_MEASURES.has(n));
  if (names.length === 0 || unknown.length)
    throw new ImportanceCliError(`--measure: unknown ${unknown.map((n) => `"${n}"`).join(', ') || '(none given)'}; available: ${[...BUILTIN_MEASURES.keys()].join(', ')}`);
  const infos = names.map((n) => getMeasure(n).info);
  const needInit = infos.filter((i) => i.needsInitWeights).map((i) => i.name);
  if (needInit.length && !o.initWeights) throw new ImportanceCliError(`--init-weights is required by ${needInit.join(', ')} (θ₀, the conv weights at initialisation)`);
  for (const [flag, v] of [['--batch-size', o.batchSize], ['--samples', o.samples], ['--num-classes', o.numClasses]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ImportanceCliError(`${flag} must be a positive integer, got ${v}`);

  await initBackend({ log: (m) => (o.verbose ? console.error(m) : undefined) });
  const model = Model.fromSafeTensors(new Uint8Array(readFileSync(o.weights)), { arch: o.arch === undefined ? undefined : parseArch(o.arch), numClasses: o.numClasses }, o.weights);
  if (o.arch === undefined && model.net.arch !== GRAPH_ARCH) throw new Error(`--arch is required: ${o.weights} carries no graph (it is not an imported model)`);
  try {
    const initBytes = o.initWeights ? new Uint8Array(readFileSync(o.initWeights)) : undefined;
    const batches = infos.some((i) => i.needsData) ? neededBatches(fileBatches(o.data, o.numClasses, o.batchSize), infos, o.samples, o.numClasses) : [];
    const scores = o.inProcess ? await inProcess(o, model, initBytes, infos, batches) : await throughService(o, model, initBytes, infos, batches);
    writeFileSync(o.out, JSON.stringify(scores));
    console.error(`wrote ${names.length} measure(s) × ${model.net.filterLayers.length} layers to ${o.out}`);
  } finally {
    model.dispose();
  }
}
