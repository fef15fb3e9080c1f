// flowprune's own Model from an ONNX file: a built-in architecture flowprune exported rebuilds from
// metadata_props (architecture, class count, channel config) and the initializers (named as the
// state_dict); any other file, and an imported model flowprune exported again, through the importer.
import { buildNetwork, GRAPH_ARCH, graphNetwork, Model, parseArch, type ArchConfig, type Model as FlowpruneModel, type StateDict } from '@flowprune/models';
import { onnxToGraph } from './import.js';
import { decodeOnnx, floatValues, metadataOf, OnnxError, type ModelProto } from './onnx-file.js';

/** The metadata_props keys flowprune writes, as in its safetensors checkpoints. */
const METADATA_KEYS = { arch: 'arch', numClasses: 'num_classes', config: 'config' } as const;

/** metadata_props for a model: what modelFromOnnx needs to rebuild it. */
export const flowpruneMetadata = (model: FlowpruneModel): Record<string, string> => ({
  [METADATA_KEYS.arch]: model.net.arch,
  [METADATA_KEYS.numClasses]: String(model.net.numClasses),
  [METADATA_KEYS.config]: JSON.stringify(model.net.config),
});

/** Whether the file carries flowprune's metadata (a built-in architecture flowprune exported). */
export const isFlowpruneExport = (model: ModelProto): boolean => metadataOf(model).has(METADATA_KEYS.arch);

export function modelFromOnnx(bytes: Uint8Array | ModelProto, source = 'model.onnx'): Model {
  const proto = bytes instanceof Uint8Array ? decodeOnnx(bytes, source) : bytes;
  const meta = metadataOf(proto);
  const arch = meta.get(METADATA_KEYS.arch);
  if (arch === undefined || arch === GRAPH_ARCH) {
    const imported = onnxToGraph(proto, source);
    return Model.fromStateDict(graphNetwork(imported.graph), imported.weights, source);
  }
  let config: ArchConfig | undefined;
  try {
    config = meta.has(METADATA_KEYS.config) ? (JSON.parse(meta.get(METADATA_KEYS.config)!) as ArchConfig) : undefined;
  } catch (e) {
    throw new OnnxError(`${source}: metadata "config" is not valid JSON (${(e as Error).message})`);
  }
  const net = buildNetwork(parseArch(arch), Number(meta.get(METADATA_KEYS.numClasses)), config);
  const initializers = new Map(proto.graph!.initializer.map((t) => [t.name ?? '', t]));
  const sd: StateDict = new Map();
  for (const spec of net.params) {
    const t = initializers.get(spec.name);
    // BatchNorm's step counter is training state, not part of the inference graph.
    if (spec.kind === 'bn_num_batches_tracked') sd.set(spec.name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
    else if (t) sd.set(spec.name, { dtype: 'F32', shape: t.dims, data: floatValues(t, source) });
  }
  return Model.fromStateDict(net, sd, source);
}
