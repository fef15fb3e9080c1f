// A graph as JSON, for checkpoints' metadata (imported models carry their graph, so every service
// rebuilds them without code of their own). The state_dict entries are derived on reading
// (graphParams), not stored. Metadata comes from callers: every field is checked.
import { graphParams } from './builder.js';
import type { Graph, GraphInput, GraphNode, GraphOp } from './types.js';

export class GraphJsonError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'GraphJsonError';
  }
}

/** The metadata key under which a checkpoint carries its graph. */
export const GRAPH_METADATA_KEY = 'graph';

export const graphToJson = (graph: Graph): string => JSON.stringify({ input: graph.input, nodes: graph.nodes, output: graph.output });

type Kind = 'string' | 'count' | 'number' | 'bool' | 'pair' | 'pad4' | 'strings' | 'one';
/** Fields of each op beyond name/op/inputs/output; a trailing '?' marks an optional one. */
const FIELDS: Record<GraphOp, Record<string, Kind>> = {
  conv: { inChannels: 'count', outChannels: 'count', kernel: 'pair', stride: 'pair', padding: 'pad4', dilation: 'pair', groups: 'count', weight: 'string', 'bias?': 'string' },
  batchnorm: { channels: 'count', prefix: 'string', eps: 'number' },
  relu: { 'functional?': 'bool' },
  clip: { min: 'number', max: 'number', 'functional?': 'bool' },
  sigmoid: {},
  mul: {},
  add: {},
  concat: { axis: 'one' },
  maxpool: { kernel: 'pair', stride: 'pair', padding: 'pad4', ceilMode: 'bool', 'countIncludePad?': 'bool', 'functional?': 'bool' },
  avgpool: { kernel: 'pair', stride: 'pair', padding: 'pad4', ceilMode: 'bool', 'countIncludePad?': 'bool', 'functional?': 'bool' },
  globalavgpool: { 'functional?': 'bool' },
  flatten: {},
  linear: { inFeatures: 'count', outFeatures: 'count', weight: 'string', 'bias?': 'string' },
  identity: {},
  dropout: {},
};
const BN_PARAMS = { weight: 'string', bias: 'string', runningMean: 'string', runningVar: 'string', 'numBatchesTracked?': 'string' } as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function check(value: unknown, kind: Kind): boolean {
  const ints = (n: number, min: number) => Array.isArray(value) && value.length === n && value.every((x) => Number.isSafeInteger(x) && (x as number) >= min);
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0;
    case 'count':
      return Number.isSafeInteger(value) && (value as number) >= 1;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'pair':
      return ints(2, 1);
    case 'pad4':
      return ints(4, 0);
    case 'strings':
      return Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'string' && x.length > 0);
    case 'one':
      return value === 1;
  }
}

function checkFields(obj: Record<string, unknown>, fields: Record<string, Kind>, where: string): void {
  for (const [key, kind] of Object.entries(fields)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    if (optional && obj[name] === undefined) continue;
    if (!check(obj[name], kind)) throw new GraphJsonError(`${where}: field "${name}" must be ${describe(kind)}, got ${JSON.stringify(obj[name]) ?? 'nothing'}`);
  }
}

function pick(obj: Record<string, unknown>, fields: Record<string, Kind>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const name = key.replace(/\?$/, '');
    if (obj[name] !== undefined) out[name] = obj[name];
  }
  return out;
}

function describe(kind: Kind): string {
  return {
    string: 'a non-empty string',
    count: 'a positive integer',
    number: 'a finite number',
    bool: 'true or false',
    pair: 'two positive integers',
    pad4: 'four non-negative integers',
    strings: 'a non-empty list of tensor names',
    one: '1',
  }[kind];
}

/** Reads a graph written by graphToJson; throws GraphJsonError naming the field. Shapes are checked by whoever builds it. */
export function graphFromJson(text: string, source = 'graph'): Graph {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new GraphJsonError(`${source}: the graph is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(value) || !isObject(value.input) || !Array.isArray(value.nodes) || typeof value.output !== 'string')
    throw new GraphJsonError(`${source}: a graph is {input, nodes, output}`);
  checkFields(value.input, { name: 'string', channels: 'count', height: 'count', width: 'count' }, `${source}: input`);
  const { name, channels, height, width } = value.input as unknown as GraphInput;
  const nodes = value.nodes.map((n, i): GraphNode => {
    const where = `${source}: node ${i}`;
    if (!isObject(n) || typeof n.op !== 'string' || !(n.op in FIELDS))
      throw new GraphJsonError(`${where}: "op" must be one of ${Object.keys(FIELDS).join(', ')}, got ${JSON.stringify(isObject(n) ? n.op : n)}`);
    checkFields(n, { name: 'string', inputs: 'strings', output: 'string', ...FIELDS[n.op as GraphOp] }, where);
    // Only the known fields are kept: what else the metadata holds is dropped.
    const node: Record<string, unknown> = pick(n, { name: 'string', op: 'string', inputs: 'strings', output: 'string', ...FIELDS[n.op as GraphOp] });
    if (n.op === 'batchnorm') {
      if (!isObject(n.params)) throw new GraphJsonError(`${where}: field "params" must name the BatchNorm's tensors`);
      checkFields(n.params, BN_PARAMS, `${where}: params`);
      node.params = pick(n.params, BN_PARAMS);
    }
    return node as unknown as GraphNode;
  });
  const graph: Graph = { input: { name, channels, height, width }, nodes, output: value.output, params: graphParams(nodes) };
  return graph;
}
