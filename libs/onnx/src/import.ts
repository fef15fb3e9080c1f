// Any CNN's ONNX file as a flowprune graph: nodes translated one by one into the graph's typed
// nodes (libs/models), weights kept under their initializer names (PyTorch's state_dict names when
// PyTorch exported the file). Static operands (initializers, Constant nodes, Identity of either) are
// folded into the nodes that read them; everything else must be an operator of SUPPORTED_OPS.
// Files come from users: every way a file can be wrong is an OnnxError naming what and where.
import {
  GRAPH_ARCH,
  GRAPH_METADATA_KEY,
  GraphError,
  graphParams,
  inferShapes,
  graphToJson,
  serializeSafeTensors,
  type BatchNormNode,
  type ConvNode,
  type Graph,
  type GraphNode,
  type LinearNode,
  type Padding4,
  type Pair,
  type PoolNode,
  type StateDict,
  type TensorShape,
} from '@flowprune/models';
import { AttributeProto_AttributeType, TensorProto, type AttributeProto, type NodeProto } from './gen/onnx/onnx.js';
import { decodeOnnx, floatValues, OnnxError, TensorProto_DataType, type ModelProto } from './onnx-file.js';

/** ONNX operators (default domain) the importer translates. */
export const SUPPORTED_OPS = [
  'Conv',
  'BatchNormalization',
  'Relu',
  'Clip',
  'Sigmoid',
  'Mul',
  'Add',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'ReduceMean',
  'Flatten',
  'Reshape',
  'Gemm',
  'MatMul',
  'Dropout',
  'Identity',
  'Pad',
  'Constant',
] as const;

/** Values per input image the importer accepts (a 4096×4096 RGB image is 50M). */
const MAX_IMAGE_VALUES = 2 ** 26;

/** Default-domain opsets whose semantics of these operators the importer follows. */
const IMPORT_OPSETS = { min: 9, max: 21 } as const;

export interface ImportedGraph {
  graph: Graph;
  /** PyTorch-layout float tensors by the graph's parameter names (initializer names where unique). */
  weights: StateDict;
  /** The logits' width (the output's shape, [classes]). */
  numClasses: number;
  /** Default-domain opset the file declares. */
  opset: number;
}

type Static = { dims: number[]; values: number[] };

/** An ONNX file (bytes or decoded) as a flowprune graph with its weights. Throws OnnxError. */
export function onnxToGraph(file: Uint8Array | ModelProto, source = 'model.onnx'): ImportedGraph {
  const model = file instanceof Uint8Array ? decodeOnnx(file, source) : file;
  return new Importer(model, source).run();
}

const fail = (msg: string): never => {
  throw new OnnxError(msg);
};

class Importer {
  private readonly g;
  private readonly opset: number;
  /** Initializers by name (float weights and static integer operands). */
  private readonly initializers = new Map<string, TensorProto>();
  /** Static tensors: Constant outputs and Identity of a static tensor. */
  private readonly constants = new Map<string, TensorProto>();
  /** Channels (maps) or features (flat) of every tensor produced so far. */
  private readonly channels = new Map<string, number>();
  /** Features of flat tensors whose width is known without spatial sizes (after a linear layer). */
  private readonly features = new Map<string, number>();
  /** Zero-padding a Pad node put on a tensor, folded into the conv or average pool reading it. */
  private readonly pending = new Map<string, { from: string; pads: Padding4; node: string }>();
  private readonly nodes: GraphNode[] = [];
  private readonly weights: StateDict = new Map();
  /** How many parameter slots took each initializer (a second one gets its own copy). */
  private readonly taken = new Map<string, number>();
  private readonly names = new Set<string>();

  constructor(
    model: ModelProto,
    private readonly source: string,
  ) {
    this.g = model.graph!;
    const opsets = model.opsetImport.filter((o) => !o.domain || o.domain === 'ai.onnx');
    this.opset = opsets[0]?.version ?? 0;
    if (this.opset < IMPORT_OPSETS.min || this.opset > IMPORT_OPSETS.max)
      fail(`${source}: opset ${this.opset || '(none)'} of the default ONNX domain; flowprune imports opsets ${IMPORT_OPSETS.min} to ${IMPORT_OPSETS.max} (re-export with e.g. opset_version=13)`);
    for (const t of this.g.initializer) {
      if (!t.name) fail(`${source}: an initializer has no name`);
      if (this.initializers.has(t.name!)) fail(`${source}: initializer "${t.name}" is defined twice`);
      this.initializers.set(t.name!, t);
    }
  }

  run(): ImportedGraph {
    const { source, g } = this;
    const inputs = g.input.filter((v) => !this.initializers.has(v.name ?? ''));
    if (inputs.length !== 1) fail(`${source}: the model must take one image input, it takes ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
    const input = inputs[0];
    const tt = input.type?.tensorType;
    if (!tt || tt.elemType !== TensorProto_DataType.FLOAT) fail(`${source}: input "${input.name}" must be a float32 tensor`);
    const dims = tt!.shape?.dim ?? [];
    const chw = dims.slice(1).map((d) => d.dimValue);
    if (dims.length !== 4 || chw.some((d) => d === undefined || !Number.isInteger(d) || d < 1))
      fail(`${source}: input "${input.name}" must be N×C×H×W with fixed C, H and W (got [${dims.map((d) => d.dimValue ?? d.dimParam ?? '?').join(', ')}])`);
    const [channels, height, width] = chw as [number, number, number];
    if (channels * height * width > MAX_IMAGE_VALUES)
      fail(`${source}: input "${input.name}" of ${channels}×${height}×${width} values per image is larger than flowprune takes (${MAX_IMAGE_VALUES})`);
    const inputName = input.name ?? fail(`${source}: the input has no name`);
    this.channels.set(inputName, channels);

    if (g.output.length !== 1) fail(`${source}: the model must have one output (the logits), it has ${g.output.length}`);
    const output = g.output[0].name ?? fail(`${source}: the output has no name`);

    for (const n of this.liveNodesInOrder(inputName, output)) this.translate(n);

    if (!this.channels.has(output)) fail(`${source}: the output "${output}" is a constant, not computed from the input`);
    const graph: Graph = { input: { name: inputName, channels, height, width }, nodes: this.nodes, output, params: graphParams(this.nodes) };
    if (graph.nodes.length === 0) fail(`${source}: the graph computes nothing from its input`);
    // Spatial sizes, flattened widths and broadcasts are checked with every tensor's shape.
    let shapes: Map<string, TensorShape>;
    try {
      shapes = inferShapes(graph);
    } catch (e) {
      if (e instanceof GraphError) return fail(`${source}: ${e.message}`);
      throw e;
    }
    return { graph, weights: this.weights, numClasses: shapes.get(output)![0], opset: this.opset };
  }

  /** The nodes the output depends on, in an order where each follows its inputs' producers; finds cycles. */
  private liveNodesInOrder(input: string, output: string): NodeProto[] {
    const { source } = this;
    const producer = new Map<string, number>();
    this.g.node.forEach((n, i) => {
      for (const o of n.output) {
        if (!o) continue;
        if (producer.has(o) || this.initializers.has(o) || o === input) fail(`${source}: tensor "${o}" is produced twice (node ${nodeLabel(n, i)})`);
        producer.set(o, i);
      }
    });
    // Reverse reachability from the output: what else the file holds (training outputs) is ignored.
    const live = new Set<number>();
    const stack = [output];
    while (stack.length) {
      const t = stack.pop()!;
      const i = producer.get(t);
      if (i === undefined) {
        if (t !== input && !this.initializers.has(t)) fail(`${source}: tensor "${t}" is read but neither an input, an initializer nor a node's output`);
        continue;
      }
      if (live.has(i)) continue;
      live.add(i);
      for (const x of this.g.node[i].input) if (x) stack.push(x);
    }
    // Kahn's order over the live nodes; what cannot be ordered lies on a cycle.
    const indegree = new Map<number, number>();
    const readers = new Map<number, number[]>();
    for (const i of live) {
      const deps = new Set(this.g.node[i].input.map((x) => producer.get(x)).filter((p): p is number => p !== undefined));
      indegree.set(i, deps.size);
      for (const d of deps) readers.set(d, [...(readers.get(d) ?? []), i]);
    }
    const ready = [...live].filter((i) => indegree.get(i) === 0).sort((a, b) => a - b);
    const order: NodeProto[] = [];
    while (ready.length) {
      const i = ready.shift()!;
      order.push(this.g.node[i]);
      for (const r of readers.get(i) ?? []) {
        indegree.set(r, indegree.get(r)! - 1);
        if (indegree.get(r) === 0) ready.push(r);
      }
    }
    if (order.length < live.size) {
      const stuck = [...live].filter((i) => indegree.get(i)! > 0).map((i) => nodeLabel(this.g.node[i], i));
      fail(`${source}: the graph has a cycle through ${stuck.slice(0, 6).join(', ')}${stuck.length > 6 ? ', …' : ''}; an ONNX graph must be acyclic`);
    }
    return order;
  }

  private uniqueName(n: NodeProto): string {
    const base = n.name || `${n.opType}_${this.names.size}`;
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  private translate(n: NodeProto): void {
    const name = this.uniqueName(n);
    const op = n.opType ?? '';
    const where = `${this.source}: node "${name}" (${op})`;
    if (n.domain && n.domain !== 'ai.onnx')
      fail(`${where} is from domain "${n.domain}"; flowprune imports the default ONNX domain's ${SUPPORTED_OPS.join(', ')}`);
    const ctx = new NodeContext(this, n, name, where);
    switch (op) {
      case 'Constant':
        return this.constant(ctx);
      case 'Identity':
      case 'Dropout': {
        ctx.onlyFirstOutputUsed();
        const x = n.input[0] ?? ctx.fail('needs an input');
        if (this.isStatic(x)) {
          if (op === 'Dropout') ctx.fail('reads a constant');
          this.constants.set(ctx.out, { ...this.staticTensor(x, where), name: ctx.out });
          return;
        }
        return this.emit({ name, op: op === 'Identity' ? 'identity' : 'dropout', inputs: [ctx.tensor(0)], output: ctx.out });
      }
      case 'Conv':
        return this.conv(ctx);
      case 'BatchNormalization':
        return this.batchNorm(ctx);
      case 'Relu':
      case 'Sigmoid':
        return this.emit({ name, op: op === 'Relu' ? 'relu' : 'sigmoid', inputs: [ctx.tensor(0)], output: ctx.out });
      case 'Clip':
        return this.clip(ctx);
      case 'Add':
      case 'Mul':
        ctx.arity(2);
        return this.emit({ name, op: op === 'Add' ? 'add' : 'mul', inputs: [ctx.tensor(0), ctx.tensor(1)], output: ctx.out });
      case 'Concat': {
        const axis = ctx.int('axis');
        if (axis !== 1 && axis !== -3) ctx.fail(`concatenates along axis ${axis}; flowprune concatenates channels (axis 1)`);
        const inputs = n.input.map((_, i) => ctx.tensor(i));
        if (inputs.length === 0) ctx.fail('has no inputs');
        return this.emit({ name, op: 'concat', axis: 1, inputs, output: ctx.out }, inputs.reduce((s, x) => s + this.channelsOf(x, where), 0));
      }
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(ctx);
      case 'GlobalAveragePool':
        return this.emit({ name, op: 'globalavgpool', inputs: [ctx.tensor(0)], output: ctx.out });
      case 'ReduceMean':
        return this.reduceMean(ctx);
      case 'Flatten': {
        const axis = ctx.int('axis', 1);
        if (axis !== 1) ctx.fail(`flattens from axis ${axis}; flowprune flattens [N, C, H, W] to [N, C·H·W] (axis 1)`);
        return this.flatten(ctx);
      }
      case 'Reshape':
        return this.reshape(ctx);
      case 'Gemm':
        return this.gemm(ctx);
      case 'MatMul':
        return this.matmul(ctx);
      case 'Pad':
        return this.pad(ctx);
      default:
        fail(`${where}: operator ${op || '(empty)'} is not supported; flowprune imports ${SUPPORTED_OPS.join(', ')}`);
    }
  }

  // ---- helpers shared by the translations ----

  isStatic(t: string): boolean {
    return this.initializers.has(t) || this.constants.has(t);
  }

  staticTensor(t: string, where: string): TensorProto {
    return this.constants.get(t) ?? this.initializers.get(t) ?? fail(`${where}: "${t}" must be an initializer or a constant`);
  }

  /** Values of a static tensor (float or integer types), checked against its dims. */
  staticValues(t: string, where: string): Static {
    const tensor = this.staticTensor(t, where);
    const dims = checkedDims(tensor, where);
    const n = dims.reduce((a, b) => a * b, 1);
    const type = tensor.dataType;
    let values: number[];
    if (type === TensorProto_DataType.FLOAT) values = Array.from(floatData(tensor, where));
    else if (type === TensorProto_DataType.INT64 || type === TensorProto_DataType.INT32) {
      const width = type === TensorProto_DataType.INT64 ? 8 : 4;
      const raw = tensor.rawData;
      if (raw && raw.length) {
        if (raw.length !== n * width) fail(`${where}: "${t}" holds ${raw.length} bytes, its shape [${dims}] needs ${n * width}`);
        values = Array.from({ length: n }, (_, i) => (width === 8 ? Number(raw.readBigInt64LE(i * 8)) : raw.readInt32LE(i * 4)));
      } else values = [...(type === TensorProto_DataType.INT64 ? tensor.int64Data : tensor.int32Data)];
    } else return fail(`${where}: "${t}" has data type ${type}; constants must be float32, int32 or int64`);
    if (values.length !== n) fail(`${where}: "${t}" holds ${values.length} values, its shape [${dims}] needs ${n}`);
    return { dims, values };
  }

  channelsOf(t: string, where: string): number {
    return this.channels.get(t) ?? fail(`${where}: reads "${t}", which is not computed from the input`);
  }

  emit(node: GraphNode, channels?: number): void {
    this.channels.set(node.output, channels ?? this.channelsOf(node.inputs[0], `${this.source}: node "${node.name}"`));
    // Flat tensors of known width: a linear layer's output and what passes through activations.
    if (node.op === 'linear') this.features.set(node.output, node.outFeatures);
    else if (node.op !== 'conv' && node.op !== 'batchnorm' && node.inputs.length === 1 && this.features.has(node.inputs[0]))
      this.features.set(node.output, this.features.get(node.inputs[0])!);
    this.nodes.push(node);
  }

  /**
   * A float initializer as a parameter of the graph, PyTorch layout `shape`, under its own name
   * unless another slot took that name already (deduplicated initializers) or `rename` is given.
   */
  param(t: string, shape: number[], where: string, what: string, opts: { rename?: string; transform?: (v: Float32Array) => Float32Array } = {}): string {
    const tensor = this.initializers.get(t) ?? this.constants.get(t);
    if (!tensor) return fail(`${where}: its ${what} "${t}" must be an initializer (weights computed at run time are not supported)`);
    const dims = checkedDims(tensor, where);
    let data = floatData(tensor, where);
    const need = shape.reduce((a, b) => a * b, 1);
    if (data.length !== need) fail(`${where}: ${what} "${t}" has shape [${dims}] (${data.length} values); the node needs [${shape}]`);
    if (opts.transform) data = opts.transform(data);
    const uses = this.taken.get(t) ?? 0;
    this.taken.set(t, uses + 1);
    let name = opts.rename ?? (uses === 0 ? t : `${t}#${uses}`);
    while (this.weights.has(name)) name = `${name}'`;
    this.weights.set(name, { dtype: 'F32', shape, data });
    return name;
  }

  private constant(ctx: NodeContext): void {
    const a = ctx.node.attribute[0];
    if (ctx.node.attribute.length !== 1 || !a) return ctx.fail('needs exactly one value attribute');
    let t: TensorProto | undefined;
    const { FLOAT, INT64 } = TensorProto_DataType;
    if (a.name === 'value' && a.t) t = a.t;
    else if (a.name === 'value_float') t = TensorProto.fromPartial({ dims: [], dataType: FLOAT, floatData: [a.f ?? 0] });
    else if (a.name === 'value_floats') t = TensorProto.fromPartial({ dims: [a.floats.length], dataType: FLOAT, floatData: a.floats });
    else if (a.name === 'value_int') t = TensorProto.fromPartial({ dims: [], dataType: INT64, int64Data: [a.i ?? 0] });
    else if (a.name === 'value_ints') t = TensorProto.fromPartial({ dims: [a.ints.length], dataType: INT64, int64Data: a.ints });
    if (!t) return ctx.fail(`holds a ${a.name} attribute; flowprune reads tensor, float(s) and int(s) constants`);
    this.constants.set(ctx.out, { ...t, name: ctx.out });
  }

  private conv(ctx: NodeContext): void {
    const { name, where } = ctx;
    const x = ctx.tensor(0);
    const w = ctx.staticInput(1, 'weight');
    const wt = this.staticTensor(w, where);
    const wd = checkedDims(wt, where);
    if (wd.length !== 4) ctx.fail(`weight "${w}" has shape [${wd}]; a 2-D convolution's is [out, in/groups, kh, kw]`);
    const groups = ctx.int('group', 1);
    const kernel = ctx.pair('kernel_shape', [wd[2], wd[3]]);
    if (kernel[0] !== wd[2] || kernel[1] !== wd[3]) ctx.fail(`kernel_shape [${kernel}] disagrees with the weight's [${wd}]`);
    const inChannels = this.channelsOf(x, where);
    if (groups < 1 || inChannels % groups !== 0 || wd[0] % groups !== 0) ctx.fail(`group ${groups} must divide its ${inChannels} input and ${wd[0]} output channels`);
    if (wd[1] * groups !== inChannels) ctx.fail(`weight "${w}" has shape [${wd}], which takes ${wd[1] * groups} input channels, but its input has ${inChannels}`);
    const pending = this.takePad(x, ctx);
    const node: ConvNode = {
      name,
      op: 'conv',
      inputs: [pending?.from ?? x],
      output: ctx.out,
      inChannels,
      outChannels: wd[0],
      kernel,
      stride: ctx.pair('strides', [1, 1]),
      padding: addPads(ctx.pads(), pending?.pads),
      dilation: ctx.pair('dilations', [1, 1]),
      groups,
      weight: this.param(w, wd, where, 'weight'),
    };
    if (ctx.node.input[2]) node.bias = this.param(ctx.staticInput(2, 'bias'), [wd[0]], where, 'bias');
    this.emit(node, wd[0]);
  }

  private batchNorm(ctx: NodeContext): void {
    const { name, where } = ctx;
    ctx.onlyFirstOutputUsed();
    const x = ctx.tensor(0);
    const c = this.channelsOf(x, where);
    const roles = ['weight', 'bias', 'running_mean', 'running_var'] as const;
    const given = roles.map((_, i) => ctx.staticInput(i + 1, ['scale', 'B', 'input_mean', 'input_var'][i]));
    // Importance and masks address a BatchNorm by prefix (prefix.weight, prefix.bias): keep the
    // file's names where they already are PyTorch's, otherwise name them after the node.
    const common = given[0].endsWith('.weight') ? given[0].slice(0, -'.weight'.length) : undefined;
    const pytorchNamed = common !== undefined && given.every((t, i) => t === `${common}.${roles[i]}`) && given.every((t) => !this.taken.has(t));
    const prefix = pytorchNamed ? common : this.freshPrefix(name);
    const [weight, bias, runningMean, runningVar] = roles.map((r, i) =>
      this.param(given[i], [c], where, ['scale', 'B', 'input_mean', 'input_var'][i], { rename: pytorchNamed ? undefined : `${prefix}.${r}` }),
    );
    const eps = ctx.float('epsilon', 1e-5);
    const node: BatchNormNode = { name, op: 'batchnorm', inputs: [x], output: ctx.out, channels: c, prefix, eps, params: { weight, bias, runningMean, runningVar } };
    this.emit(node, c);
  }

  private freshPrefix(name: string): string {
    let p = name.replace(/[^A-Za-z0-9_.]/g, '_').replace(/^[_.]+/, '') || 'bn';
    while (this.weights.has(`${p}.weight`)) p = `${p}_`;
    return p;
  }

  private clip(ctx: NodeContext): void {
    const { where } = ctx;
    const bound = (i: number, attr: string): number | undefined => {
      if (this.opset < 11) return ctx.has(attr) ? ctx.float(attr, 0) : undefined;
      const t = ctx.node.input[i];
      if (!t) return undefined;
      const v = this.staticValues(t, where).values;
      if (v.length !== 1) ctx.fail(`${attr} "${t}" must be a scalar`);
      return v[0];
    };
    const min = bound(1, 'min');
    const max = bound(2, 'max');
    if (min === 0 && max === undefined) return this.emit({ name: ctx.name, op: 'relu', inputs: [ctx.tensor(0)], output: ctx.out });
    if (min === undefined || max === undefined) ctx.fail('needs both min and max (ReLU6 is Clip(0, 6))');
    this.emit({ name: ctx.name, op: 'clip', inputs: [ctx.tensor(0)], output: ctx.out, min: min!, max: max! });
  }

  private pool(ctx: NodeContext): void {
    const avg = ctx.node.opType === 'AveragePool';
    ctx.onlyFirstOutputUsed();
    const x = ctx.tensor(0);
    const dil = ctx.pair('dilations', [1, 1]);
    if (dil[0] !== 1 || dil[1] !== 1) ctx.fail(`dilations [${dil}] are not supported (pools dilate by 1)`);
    if (ctx.int('storage_order', 0) !== 0) ctx.fail('storage_order 1 (column-major indices) is not supported');
    const kernel = ctx.pair('kernel_shape');
    const own = ctx.pads();
    let countIncludePad = avg ? ctx.int('count_include_pad', 0) === 1 : undefined;
    const pending = this.takePad(x, ctx);
    if (pending && !avg) ctx.fail(`reads the zero-padded "${x}"; a max pool pads with −∞, so the Pad cannot be folded into it`);
    if (pending) {
      // Explicit zeros count in the divisor; the node's own padding must then count too.
      if (own.some((p) => p > 0) && !countIncludePad) ctx.fail('mixes a Pad node with its own padding that does not count (count_include_pad 0)');
      countIncludePad = true;
    }
    const node: PoolNode = {
      name: ctx.name,
      op: avg ? 'avgpool' : 'maxpool',
      inputs: [pending?.from ?? x],
      output: ctx.out,
      kernel,
      stride: ctx.pair('strides', [1, 1]),
      padding: addPads(own, pending?.pads),
      ceilMode: ctx.int('ceil_mode', 0) === 1,
      ...(avg ? { countIncludePad } : {}),
    };
    this.emit(node);
  }

  private reduceMean(ctx: NodeContext): void {
    const axes = this.opset >= 18 && ctx.node.input[1] ? this.staticValues(ctx.node.input[1], ctx.where).values : ctx.ints('axes');
    const spatial = new Set(axes.map((a) => (a < 0 ? a + 4 : a)));
    if (spatial.size !== 2 || !spatial.has(2) || !spatial.has(3)) ctx.fail(`averages over axes [${axes}]; flowprune averages over space (axes [2, 3])`);
    const x = ctx.tensor(0);
    if (ctx.int('keepdims', 1) === 1) return this.emit({ name: ctx.name, op: 'globalavgpool', inputs: [x], output: ctx.out });
    const pooled = `${ctx.out}/pooled`;
    this.emit({ name: `${ctx.name}/pool`, op: 'globalavgpool', inputs: [x], output: pooled });
    this.emit({ name: ctx.name, op: 'flatten', inputs: [pooled], output: ctx.out });
  }

  private flatten(ctx: NodeContext): void {
    this.emit({ name: ctx.name, op: 'flatten', inputs: [ctx.tensor(0)], output: ctx.out });
  }

  /** Reshape to [N, −1] (or [N, F]): a flatten; the shape must be static. */
  private reshape(ctx: NodeContext): void {
    const shape = this.staticValues(ctx.staticInput(1, 'shape'), ctx.where).values;
    const batchLike = (d: number) => d === 0 || d === -1 || d > 0;
    if (shape.length !== 2 || !batchLike(shape[0]) || !(shape[1] === -1 || shape[1] > 0) || (shape[0] === -1 && shape[1] === -1))
      ctx.fail(`reshapes to [${shape}]; flowprune imports reshapes to [N, −1] (a flatten) only`);
    this.flatten(ctx);
  }

  private gemm(ctx: NodeContext): void {
    const { where } = ctx;
    if (ctx.int('transA', 0) !== 0) ctx.fail('transA 1 is not supported (the activations must be [N, features])');
    const transB = ctx.int('transB', 0) === 1;
    const alpha = ctx.float('alpha', 1);
    const beta = ctx.float('beta', 1);
    const w = ctx.staticInput(1, 'B');
    const wd = checkedDims(this.staticTensor(w, where), where);
    if (wd.length !== 2) ctx.fail(`B "${w}" has shape [${wd}]; a linear layer's is 2-D`);
    const [outF, inF] = transB ? wd : [wd[1], wd[0]];
    // PyTorch's layout [out, in]; alpha and beta folded into the weight and bias.
    const transform = (v: Float32Array) => (transB ? v : transpose(v, wd[0], wd[1])).map((e) => e * alpha);
    const weight = this.param(w, [outF, inF], where, 'B', { transform });
    const node = this.linear(ctx, weight, inF, outF);
    const c = ctx.node.input[2];
    if (c) {
      const cd = checkedDims(this.staticTensor(c, where), where);
      if (cd.reduce((a, b) => a * b, 1) !== outF || cd.length > 2 || (cd.length === 2 && cd[0] !== 1))
        ctx.fail(`C "${c}" has shape [${cd}]; a bias of ${outF} features must be [${outF}] or [1, ${outF}]`);
      node.bias = this.param(c, [outF], where, 'C', { transform: (v) => v.map((e) => e * beta) });
    }
    this.emit(node, outF);
  }

  /** MatMul by a [in, out] initializer: a linear layer (weight stored [out, in], as PyTorch keeps it). */
  private matmul(ctx: NodeContext): void {
    const { where } = ctx;
    const w = ctx.staticInput(1, 'B');
    const wd = checkedDims(this.staticTensor(w, where), where);
    if (wd.length !== 2) ctx.fail(`B "${w}" has shape [${wd}]; a linear layer's is 2-D [in, out]`);
    const weight = this.param(w, [wd[1], wd[0]], where, 'B', { transform: (v) => transpose(v, wd[0], wd[1]) });
    this.emit(this.linear(ctx, weight, wd[0], wd[1]), wd[1]);
  }

  private linear(ctx: NodeContext, weight: string, inFeatures: number, outFeatures: number): LinearNode {
    const x = ctx.tensor(0);
    // A flattened map's width needs spatial sizes (the graph's shape check compares it); a linear
    // layer's output is checked here.
    const have = this.features.get(x);
    if (have !== undefined && have !== inFeatures) ctx.fail(`its weight takes ${inFeatures} input features, its input has ${have}`);
    return { name: ctx.name, op: 'linear', inputs: [x], output: ctx.out, inFeatures, outFeatures, weight };
  }

  /** Pad of zeros over H and W: recorded, then folded into the conv or average pool that reads it. */
  private pad(ctx: NodeContext): void {
    const { where } = ctx;
    const x = ctx.tensor(0);
    const mode = ctx.string('mode', 'constant');
    if (mode !== 'constant') ctx.fail(`pads in mode "${mode}"; flowprune folds zero (constant) padding only`);
    const pads = this.opset >= 11 ? this.staticValues(ctx.staticInput(1, 'pads'), where).values : ctx.ints('pads');
    const value = this.opset >= 11 ? (ctx.node.input[2] ? this.staticValues(ctx.node.input[2], where).values[0] : 0) : ctx.float('value', 0);
    if (value !== 0) ctx.fail(`pads with ${value}; flowprune folds zero padding only`);
    if (pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0))
      ctx.fail(`pads [${pads}]; flowprune folds non-negative padding of H and W only`);
    const hw: Padding4 = [pads[2], pads[3], pads[6], pads[7]];
    if (hw.every((p) => p === 0)) return this.emit({ name: ctx.name, op: 'identity', inputs: [x], output: ctx.out });
    const earlier = this.pending.get(x);
    this.pending.set(ctx.out, { from: earlier?.from ?? x, pads: addPads(hw, earlier?.pads), node: ctx.name });
    this.channels.set(ctx.out, this.channelsOf(x, where));
  }

  /** The Pad folded into this reader, if it reads a padded tensor (it must be the Pad's only reader). */
  private takePad(x: string, ctx: NodeContext): { from: string; pads: Padding4 } | undefined {
    const p = this.pending.get(x);
    if (!p) return undefined;
    const readers = this.g.node.filter((n) => n.input.includes(x));
    if (readers.length !== 1) ctx.fail(`reads "${x}", padded by ${p.node} for ${readers.length} nodes; flowprune folds a Pad into its one reader`);
    return p;
  }

  /** A node reading a padded tensor that cannot absorb the Pad. */
  checkUnpadded(x: string, where: string): void {
    const p = this.pending.get(x);
    if (p) fail(`${where}: reads "${x}", padded by ${p.node}; flowprune folds a Pad only into a Conv or AveragePool reading it`);
  }

  /** Tensors read by nodes other than the live ones (other outputs of a multi-output node). */
  readers(t: string): number {
    return this.g.node.filter((n) => n.input.includes(t)).length + (this.g.output.some((o) => o.name === t) ? 1 : 0);
  }
}

/** Operators that take a Pad node's zeros into their own padding (or refuse with their own reason). */
const PAD_READERS = new Set(['Conv', 'AveragePool', 'MaxPool', 'Pad']);

/** One node's inputs, outputs and attributes, with errors naming it. */
class NodeContext {
  readonly out: string;
  private readonly attrs: Map<string, AttributeProto>;

  constructor(
    private readonly imp: Importer,
    readonly node: NodeProto,
    readonly name: string,
    readonly where: string,
  ) {
    this.out = node.output[0] || this.fail('has no output');
    this.attrs = new Map(node.attribute.map((a) => [a.name ?? '', a]));
  }

  fail(msg: string): never {
    throw new OnnxError(`${this.where}: ${msg}`);
  }

  arity(n: number): void {
    if (this.node.input.length !== n) this.fail(`needs ${n} inputs, has ${this.node.input.length}`);
  }

  /** Input i, a tensor computed from the image (not a constant). */
  tensor(i: number): string {
    const t = this.node.input[i] || this.fail(`needs input ${i + 1}`);
    if (this.imp.isStatic(t)) this.fail(`input ${i + 1} "${t}" is a constant; flowprune imports this operator on computed tensors only`);
    this.imp.channelsOf(t, this.where);
    if (!PAD_READERS.has(this.node.opType ?? '')) this.imp.checkUnpadded(t, this.where);
    return t;
  }

  staticInput(i: number, what: string): string {
    const t = this.node.input[i] || this.fail(`needs its ${what} (input ${i + 1})`);
    if (!this.imp.isStatic(t)) this.fail(`its ${what} "${t}" must be an initializer or a constant, not computed at run time`);
    return t;
  }

  onlyFirstOutputUsed(): void {
    for (const o of this.node.output.slice(1))
      if (o && this.imp.readers(o) > 0) this.fail(`its output "${o}" is read; flowprune imports inference graphs, which use the first output only`);
  }

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  private attr(name: string, type: AttributeProto_AttributeType): AttributeProto | undefined {
    const a = this.attrs.get(name);
    if (a && a.type !== undefined && a.type !== type) this.fail(`attribute ${name} has type ${AttributeProto_AttributeType[a.type] ?? a.type}, expected ${AttributeProto_AttributeType[type]}`);
    return a;
  }

  int(name: string, dflt?: number): number {
    const a = this.attr(name, AttributeProto_AttributeType.INT);
    const v = a ? a.i ?? 0 : dflt;
    if (v === undefined) return this.fail(`needs attribute ${name}`);
    if (!Number.isSafeInteger(v)) this.fail(`attribute ${name} = ${v} is not a usable integer`);
    return v;
  }

  ints(name: string, dflt?: number[]): number[] {
    const a = this.attr(name, AttributeProto_AttributeType.INTS);
    const v = a ? a.ints : dflt;
    if (v === undefined) return this.fail(`needs attribute ${name}`);
    if (v.some((e) => !Number.isSafeInteger(e))) this.fail(`attribute ${name} = [${v}] holds unusable integers`);
    return v;
  }

  float(name: string, dflt: number): number {
    const a = this.attr(name, AttributeProto_AttributeType.FLOAT);
    const v = a ? a.f ?? 0 : dflt;
    if (!Number.isFinite(v)) this.fail(`attribute ${name} = ${v} is not finite`);
    return v;
  }

  string(name: string, dflt: string): string {
    const a = this.attr(name, AttributeProto_AttributeType.STRING);
    return a?.s ? a.s.toString('utf8') : dflt;
  }

  /** A 2-D spatial attribute (kernel_shape, strides, dilations), positive integers. */
  pair(name: string, dflt?: Pair): Pair {
    const v = this.ints(name, dflt);
    if (v.length !== 2 || v.some((e) => e < 1)) this.fail(`attribute ${name} = [${v}] must be two positive integers (2-D images)`);
    return [v[0], v[1]];
  }

  /** pads as [top, left, bottom, right] (ONNX's order for 2-D), auto_pad NOTSET or VALID only. */
  pads(): Padding4 {
    const auto = this.string('auto_pad', 'NOTSET');
    if (auto !== 'NOTSET' && auto !== 'VALID') this.fail(`auto_pad ${auto} is not supported; export with explicit pads`);
    const v = this.ints('pads', [0, 0, 0, 0]);
    if (v.length !== 4 || v.some((e) => e < 0)) this.fail(`attribute pads = [${v}] must be four non-negative integers`);
    return [v[0], v[1], v[2], v[3]];
  }
}

function nodeLabel(n: NodeProto, i: number): string {
  return `"${n.name || `#${i}`}" (${n.opType})`;
}

function checkedDims(t: TensorProto, where: string): number[] {
  if (t.dataLocation === 1 || t.externalData.length) fail(`${where}: tensor "${t.name}" is stored outside the file (external data); save the model with all tensors inside`);
  if (t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`${where}: tensor "${t.name}" has invalid dims [${t.dims}]`);
  if (t.dims.reduce((a, b) => a * b, 1) > 2 ** 28) fail(`${where}: tensor "${t.name}" with dims [${t.dims}] is too large`);
  return [...t.dims];
}

function floatData(t: TensorProto, where: string): Float32Array {
  checkedDims(t, where);
  if (t.rawData && t.rawData.length % 4 !== 0) fail(`${where}: tensor "${t.name}" has ${t.rawData.length} raw bytes, not a whole number of float32 values`);
  return floatValues(t, where);
}

function transpose(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c];
  return out;
}

function addPads(a: Padding4, b?: Padding4): Padding4 {
  return b ? [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]] : a;
}

/**
 * The safetensors checkpoint of an imported model: its weights under their names, and metadata that
 * rebuilds it anywhere (the graph as JSON; input size and class count are the graph's own).
 */
export function importedCheckpoint(imported: ImportedGraph, source: string): Uint8Array {
  const metadata: Record<string, string> = {
    format: 'pt',
    arch: GRAPH_ARCH,
    [GRAPH_METADATA_KEY]: graphToJson(imported.graph),
    num_classes: String(imported.numClasses),
    imported_from: source,
    onnx_opset: String(imported.opset),
  };
  return serializeSafeTensors({ tensors: imported.weights, metadata });
}
