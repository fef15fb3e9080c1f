import { describeInference, fastInferenceLayout, fusedInferenceAvailable, runInference, tf, type InferenceProgram } from '@flowprune/tensor';
import { buildNetwork, graphNetwork, parseArch } from './arch/index.js';
import { GRAPH_ARCH } from './arch/types.js';
import { graphFromJson, graphToJson, GRAPH_METADATA_KEY } from './graph/json.js';
import type { ArchConfig, ForwardContext, Network, ParamReader, ParamSpec } from './arch/types.js';
import { isTrainable } from './arch/types.js';
import { CIFAR_INPUT } from './arch/input.js';
import type { GraphInput } from './graph/types.js';
import { inferenceProgram } from './graph/inference.js';
import { tfShape, tfToTorch, torchToTf } from './layout.js';
import { mulberry32 } from '@flowprune/common';
import { parseSafeTensors, serializeSafeTensors, type SafeTensor } from './safetensors.js';

/** PyTorch-layout tensors by state_dict name (host memory). */
export type StateDict = Map<string, SafeTensor>;

export class WeightsError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'WeightsError';
  }
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * A network with its weights on the compute backend. Float parameters and BN buffers are
 * tf.Variables in tfjs layout; num_batches_tracked stays on the host; ResNet masks are runtime
 * state of a pruned model (not saved, as in the paper).
 */
export class Model {
  private maskTensors?: Map<string, tf.Tensor1D>;
  /** The fused eval program, for the masks it was built with (undefined program: the graph has none). */
  private fused?: { masks: Map<string, tf.Tensor1D> | undefined; program: InferenceProgram | undefined };

  private constructor(
    readonly net: Network,
    readonly vars: Map<string, tf.Variable>,
    readonly numBatchesTracked: Map<string, bigint>,
    public masks: Map<string, Float32Array> = new Map(),
  ) {}

  /** PyTorch's default initialisation (kaiming-uniform a=√5 → U(±1/√fan_in)), seeded. */
  static init(net: Network, seed: number): Model {
    const rand = mulberry32(seed);
    const sd: StateDict = new Map();
    let fanIn = 1;
    for (const spec of net.params) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.kind === 'bn_num_batches_tracked') {
        sd.set(spec.name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
        continue;
      }
      const data = new Float32Array(n);
      if (spec.kind === 'conv' || spec.kind === 'linear_weight') {
        fanIn = spec.shape.slice(1).reduce((a, b) => a * b, 1);
        const bound = 1 / Math.sqrt(fanIn);
        for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * bound;
      } else if (spec.kind === 'linear_bias' || spec.kind === 'conv_bias') {
        const bound = 1 / Math.sqrt(fanIn);
        for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * bound;
      } else if (spec.kind === 'bn_weight' || spec.kind === 'bn_running_var') data.fill(1);
      sd.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
    }
    return Model.fromStateDict(net, sd);
  }

  /** Builds a model from PyTorch-layout tensors; every key and shape must match the network. */
  static fromStateDict(net: Network, sd: StateDict, source = 'state_dict'): Model {
    const stripped = new Map<string, SafeTensor>();
    for (const [k, v] of sd) stripped.set(k.startsWith('module.') ? k.slice(7) : k, v);
    const missing = net.params.filter((p) => !stripped.has(p.name)).map((p) => p.name);
    if (missing.length)
      throw new WeightsError(
        `${source}: missing ${missing.length} tensor(s) for ${net.arch} (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); the weights do not fit this architecture/config`,
      );
    const known = new Set(net.params.map((p) => p.name));
    const extra = [...stripped.keys()].filter((k) => !known.has(k));
    if (extra.length)
      throw new WeightsError(`${source}: unexpected tensor(s) ${extra.slice(0, 5).join(', ')} for ${net.arch}`);
    const vars = new Map<string, tf.Variable>();
    const nbt = new Map<string, bigint>();
    for (const spec of net.params) {
      const t = stripped.get(spec.name)!;
      if (!sameShape(t.shape, spec.shape))
        throw new WeightsError(`${source}: ${spec.name} has shape [${t.shape}] but ${net.arch} with this config needs [${spec.shape}]`);
      if (spec.kind === 'bn_num_batches_tracked') {
        nbt.set(spec.name, t.dtype === 'I64' ? (t.data as BigInt64Array)[0] : BigInt(Math.round(Number(t.data[0]))));
        continue;
      }
      if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new WeightsError(`${source}: ${spec.name} must be F32, got ${t.dtype}`);
      const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
      const initial = tf.tensor(torchToTf(spec, f32), tfShape(spec));
      vars.set(spec.name, tf.variable(initial, isTrainable(spec.kind)));
      initial.dispose(); // the variable holds its own reference to the data
    }
    return new Model(net, vars, nbt);
  }

  /** Reads a safetensors checkpoint; arch/classes/config come from its metadata unless given. */
  static fromSafeTensors(bytes: Uint8Array, expect: CheckpointExpectation = {}, source = 'checkpoint'): Model {
    const file = parseSafeTensors(bytes, source);
    const model = Model.fromStateDict(checkpointNetwork(file, expect, source), file.tensors, source);
    if (file.metadata.masks) model.masks = parseMasks(metadataJson(file.metadata.masks, 'masks', source), source);
    return model;
  }

  /** PyTorch-layout copy of every state_dict entry, in registration order. */
  stateDict(): StateDict {
    const sd: StateDict = new Map();
    for (const spec of this.net.params) {
      if (spec.kind === 'bn_num_batches_tracked') {
        sd.set(spec.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(this.numBatchesTracked.get(spec.name) ?? 0n) });
        continue;
      }
      const host = this.vars.get(spec.name)!.dataSync() as Float32Array;
      sd.set(spec.name, { dtype: 'F32', shape: spec.shape, data: tfToTorch(spec, host) });
    }
    return sd;
  }

  /** A safetensors checkpoint with PyTorch names; metadata carries arch, classes, config (and masks). */
  toSafeTensors(extraMetadata: Record<string, string> = {}): Uint8Array {
    const metadata: Record<string, string> = {
      format: 'pt',
      arch: this.net.arch,
      num_classes: String(this.net.numClasses),
      config: JSON.stringify(this.net.config),
      // A graph-only network carries its graph (input size included); a built-in one writes only a
      // non-default input size, so CIFAR checkpoints stay as they were.
      ...(this.net.arch === GRAPH_ARCH
        ? { [GRAPH_METADATA_KEY]: graphToJson(this.net.graph) }
        : sameInput(this.net.graph.input, CIFAR_INPUT)
          ? {}
          : { input: JSON.stringify(this.net.graph.input) }),
      ...extraMetadata,
    };
    if (this.masks.size) metadata.masks = JSON.stringify(Object.fromEntries([...this.masks].map(([k, v]) => [k, Array.from(v)])));
    return serializeSafeTensors({ tensors: this.stateDict(), metadata });
  }

  /** Trainable variables in state_dict (= named_parameters) order. */
  trainableVariables(): tf.Variable[] {
    return this.net.params.filter((p) => isTrainable(p.kind)).map((p) => this.vars.get(p.name)!);
  }

  paramSpecs(): ParamSpec[] {
    return this.net.params;
  }

  reader(): ParamReader {
    return (name: string) => {
      const v = this.vars.get(name);
      if (!v) throw new Error(`${this.net.arch}: no parameter ${name}`);
      return v;
    };
  }

  /** Logits for NHWC input; eval mode unless ctx.training. */
  forward(x: tf.Tensor4D, ctx: ForwardContext = { training: false }): tf.Tensor2D {
    const masks = ctx.masks ?? this.maskTensorMap();
    if (!ctx.training && fusedInferenceAvailable()) {
      // Eval with nothing taped: the native backend's fused executor (libs/tensor native-inference.ts),
      // in a layout with no oneDNN reference kernel; the interpreter where there is none.
      const program = this.fusedProgram(masks);
      const layout = program && fastInferenceLayout(program, x.shape[0]);
      if (program && layout) return runInference(program, x, layout);
    }
    return this.net.forward(this.reader(), x, { ...ctx, masks });
  }

  /**
   * The oneDNN primitives eval runs as at batch `batch` on the native backend, one line each with
   * its implementation (a `ref:` one is oneDNN's scalar fallback, far slower); undefined where eval
   * runs the graph interpreter (another backend, or ops outside the fused set).
   */
  describeEval(batch: number): string | undefined {
    if (!fusedInferenceAvailable()) return undefined;
    const program = this.fusedProgram(this.maskTensorMap());
    const layout = program && fastInferenceLayout(program, batch);
    return program && layout && describeInference(program, batch, undefined, layout);
  }

  private fusedProgram(masks: Map<string, tf.Tensor1D> | undefined): InferenceProgram | undefined {
    if (!this.fused || this.fused.masks !== masks) {
      const r = inferenceProgram(this.net.graph, this.reader(), masks);
      this.fused = { masks, program: 'program' in r ? r.program : undefined };
    }
    return this.fused.program;
  }

  private maskTensorMap(): Map<string, tf.Tensor1D> | undefined {
    if (this.masks.size === 0) return undefined;
    this.maskTensors ??= new Map([...this.masks].map(([k, v]) => [k, tf.keep(tf.tensor1d(v))]));
    return this.maskTensors;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    for (const m of this.maskTensors?.values() ?? []) m.dispose();
  }
}

/** What a caller may require of a checkpoint (anything left out comes from its metadata). */
export interface CheckpointExpectation {
  arch?: string;
  numClasses?: number;
  config?: ArchConfig;
}

/**
 * The network a checkpoint's metadata describes: an imported model's graph, or a built-in
 * architecture with its classes, channel config and input size. The one reading of that metadata.
 */
export function checkpointNetwork(file: { tensors: Map<string, SafeTensor>; metadata: Record<string, string> }, expect: CheckpointExpectation = {}, source = 'checkpoint'): Network {
  const meta = file.metadata;
  if (meta[GRAPH_METADATA_KEY] !== undefined && expect.arch === undefined) {
    // An imported model: the graph in the metadata rebuilds it, whatever the service.
    const net = graphNetwork(graphFromJson(meta[GRAPH_METADATA_KEY], `${source}: metadata "graph"`));
    if (expect.numClasses !== undefined && expect.numClasses !== net.numClasses)
      throw new WeightsError(`${source}: the model predicts ${net.numClasses} classes, not ${expect.numClasses}`);
    return net;
  }
  const arch = parseArch(expect.arch ?? meta.arch ?? '');
  if (expect.arch && meta.arch && meta.arch !== expect.arch) throw new WeightsError(`${source}: checkpoint is a ${meta.arch}, not a ${expect.arch}`);
  const numClasses = expect.numClasses ?? (meta.num_classes ? Number(meta.num_classes) : inferClasses(file.tensors));
  const config = expect.config ?? (meta.config ? (metadataJson(meta.config, 'config', source) as ArchConfig) : undefined);
  const input = meta.input ? parseInput(metadataJson(meta.input, 'input', source), source) : undefined;
  return buildNetwork(arch, numClasses, config, input);
}

/** A JSON value of the safetensors metadata (checkpoints may come from callers: never trusted). */
function metadataJson(text: string, key: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WeightsError(`${source}: metadata "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

const sameInput = (a: GraphInput, b: GraphInput) => a.name === b.name && a.channels === b.channels && a.height === b.height && a.width === b.width;

function parseInput(value: unknown, source: string): GraphInput {
  const v = value as Partial<GraphInput> | null;
  const dim = (x: unknown) => Number.isSafeInteger(x) && (x as number) > 0;
  if (!v || typeof v !== 'object' || typeof v.name !== 'string' || !dim(v.channels) || !dim(v.height) || !dim(v.width))
    throw new WeightsError(`${source}: metadata "input" must be {"name", "channels", "height", "width"} with positive integer sizes`);
  return { name: v.name, channels: v.channels!, height: v.height!, width: v.width! };
}

function parseMasks(value: unknown, source: string): Map<string, Float32Array> {
  const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'));
  if (!ok) throw new WeightsError(`${source}: metadata "masks" must map layer names to arrays of numbers`);
  return new Map(Object.entries(value as Record<string, number[]>).map(([k, v]) => [k, Float32Array.from(v)]));
}

function inferClasses(tensors: Map<string, SafeTensor>): number {
  for (const key of ['classifier.bias', 'linear.bias']) {
    const t = tensors.get(key) ?? tensors.get(`module.${key}`);
    if (t) return t.shape[0];
  }
  throw new WeightsError('cannot tell the number of classes: no num_classes metadata and no classifier bias');
}
