// ONNX files through the code generated from the official onnx.proto (proto-vendor/onnx): decoding
// with clear errors, float initializers, metadata. Never hand-written protobuf.
import {
  AttributeProto,
  AttributeProto_AttributeType,
  ModelProto,
  TensorProto,
  TensorProto_DataType,
  NodeProto,
  ValueInfoProto,
} from './gen/onnx/onnx.js';

export { GraphProto, ModelProto, NodeProto, TensorProto, TensorProto_DataType } from './gen/onnx/onnx.js';

/** Opset of the default ONNX domain our files use, and the IR version that introduced it. */
export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;

export class OnnxError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'OnnxError';
  }
}

/** Decodes an .onnx file; a file that is not one is an OnnxError naming the source. */
export function decodeOnnx(bytes: Uint8Array, source = 'model.onnx'): ModelProto {
  let model: ModelProto;
  try {
    model = ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxError(`${source} is not an ONNX model (${(e as Error).message})`);
  }
  if (!model.graph || model.graph.node.length === 0) throw new OnnxError(`${source} is not an ONNX model (no graph with nodes)`);
  return model;
}

export const encodeOnnx = (model: ModelProto): Uint8Array => ModelProto.encode(model).finish();

/** A float32 tensor, little-endian in raw_data as exporters write it. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  const raw = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) raw.writeFloatLE(data[i], i * 4);
  return TensorProto.fromPartial({ name, dims, dataType: TensorProto_DataType.FLOAT, rawData: raw });
}

/** The values of a float32 tensor (raw_data or float_data). */
export function floatValues(t: TensorProto, source: string): Float32Array {
  if (t.dataType !== TensorProto_DataType.FLOAT) throw new OnnxError(`${source}: tensor ${t.name} is not float32 (data type ${t.dataType})`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  const out = raw && raw.length ? new Float32Array(raw.length / 4).map((_, i) => raw.readFloatLE(i * 4)) : Float32Array.from(t.floatData);
  if (out.length !== n) throw new OnnxError(`${source}: tensor ${t.name} holds ${out.length} values, its shape [${t.dims}] needs ${n}`);
  return out;
}

/** The model's metadata_props as a map. */
export const metadataOf = (model: ModelProto): Map<string, string> => new Map(model.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));

export type AttributeValue = number | number[] | string;

/** An attribute: integers as INT/INTS, other numbers as FLOAT, strings as STRING. */
export function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.STRING, s: Buffer.from(value) });
  if (Array.isArray(value)) return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.INTS, ints: value });
  if (Number.isInteger(value)) return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.INT, i: value });
  return floatAttribute(name, value);
}

/** A float attribute even where the value happens to be whole (epsilon, alpha, ...). */
export const floatAttribute = (name: string, value: number): AttributeProto =>
  AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.FLOAT, f: value });

export function node(opType: string, name: string, input: string[], output: string[], attrs: AttributeProto[] = []): NodeProto {
  return NodeProto.fromPartial({ opType, name, input, output, attribute: attrs });
}

/** A float tensor value; a string dimension is symbolic (the batch); no dims: shape unknown. */
export function floatValueInfo(name: string, dims?: (number | string)[]): ValueInfoProto {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
  return ValueInfoProto.fromPartial({ name, type: { tensorType: { elemType: TensorProto_DataType.FLOAT, shape } } });
}
