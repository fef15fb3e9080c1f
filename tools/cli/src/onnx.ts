// `flowprune export` (a checkpoint as ONNX) and `flowprune latency` (ONNX files timed in ONNX
// Runtime and on flowprune's own backend; MAC vs measured speed-up against a baseline).
import { readFileSync, writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { countMacs, Model, parseArch } from '@flowprune/models';
import {
  decodeOnnx,
  encodeOnnx,
  ENGINES,
  isFlowpruneExport,
  modelFromOnnx,
  modelLatency,
  modelToOnnx,
  type Engine,
  type EngineLatency,
  type ModelLatencyOptions,
} from '@flowprune/onnx';
import { initBackend } from '@flowprune/tensor';
import { checkpointBytes } from './eval.js';

export interface ExportOptions {
  weights?: string;
  run?: string;
  checkpoint?: string;
  store?: string;
  arch?: string;
  numClasses?: number;
  out: string;
}

export async function runExport(o: ExportOptions): Promise<{ bytes: number; nodes: number }> {
  const bytes = await checkpointBytes(o);
  await initBackend({ log: () => undefined });
  const source = o.weights ?? `${o.run}/${o.checkpoint}`;
  const model = Model.fromSafeTensors(bytes, { arch: o.arch ? parseArch(o.arch) : undefined, numClasses: o.numClasses }, source);
  try {
    const proto = modelToOnnx(model);
    const file = encodeOnnx(proto);
    writeFileSync(o.out, file);
    return { bytes: file.length, nodes: proto.graph!.node.length };
  } finally {
    model.dispose();
  }
}

export interface LatencyCommandOptions extends ModelLatencyOptions {
  baseline?: string;
}

interface Measured {
  file: string;
  macs?: number;
  latency: EngineLatency[];
}

/** Parses "1,128" into positive integers; `flag` names the option in the error. */
export function positiveIntegers(value: string, flag: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${flag} must be positive integers separated by commas, got "${value}"`);
  return list;
}

export function parseEngines(value: string): Engine[] {
  const list = value.split(',').map((s) => s.trim());
  const bad = list.find((e) => !(ENGINES as readonly string[]).includes(e));
  if (bad !== undefined) throw new Error(`--engines: unknown engine "${bad}"; choose from ${ENGINES.join(', ')}`);
  return list as Engine[];
}

async function measure(file: string, o: LatencyCommandOptions): Promise<Measured> {
  const bytes = new Uint8Array(readFileSync(file));
  const proto = decodeOnnx(bytes, file);
  let model: Model | undefined;
  try {
    if (isFlowpruneExport(proto) || o.engines.includes('flowprune')) model = modelFromOnnx(proto, file);
  } catch (e) {
    throw new Error(`${(e as Error).message}; to time it in ONNX Runtime only, give --engines onnxruntime`);
  }
  try {
    return { file, macs: model && countMacs(model.net), latency: await modelLatency(bytes, model, o, file) };
  } finally {
    model?.dispose();
  }
}

const ms = (v: number) => v.toFixed(2);
// Colours only on a terminal (the README quotes this output).
const plain = process.stdout.isTTY ? {} : { head: [], border: [] };

export async function runLatency(file: string, o: LatencyCommandOptions, print: (line: string) => void = console.log): Promise<void> {
  // FLOWPRUNE_THREADS is read when the backend starts: --threads sets it for flowprune's engine too.
  if (o.threads) process.env.FLOWPRUNE_THREADS = String(o.threads);
  const info = await initBackend({ log: () => undefined });
  const models = [...(o.baseline ? [await measure(o.baseline, o)] : []), await measure(file, o)];
  const engineName = (e: Engine) => (e === 'onnxruntime' ? 'ONNX Runtime (CPU EP)' : `flowprune (${info.name}, ${info.threads} threads)`);
  const table = new Table({ head: ['model', 'engine', 'batch', 'p50 ms', 'p95 ms', 'images/s', 'MACs'], style: plain });
  for (const m of models)
    for (const s of m.latency) table.push([m.file, engineName(s.engine), s.batch, ms(s.p50Ms), ms(s.p95Ms), Math.round(s.imagesPerSecond), m.macs?.toLocaleString('en-US') ?? '—']);
  print(table.toString());
  print(`${o.warmup} warm-up and ${o.runs} timed runs per row; throughput at the mean latency.`);
  if (!o.baseline) return;
  const [base, pruned] = models;
  const speedups = new Table({ head: ['engine', 'batch', 'MAC speed-up', 'measured speed-up (p50)'], style: plain });
  const macSpeedup = base.macs && pruned.macs ? `${(base.macs / pruned.macs).toFixed(2)}×` : '—';
  pruned.latency.forEach((s, i) => speedups.push([engineName(s.engine), s.batch, macSpeedup, `${(base.latency[i].p50Ms / s.p50Ms).toFixed(2)}×`]));
  print(`speed-up of ${pruned.file} over ${base.file}:`);
  print(speedups.toString());
}
