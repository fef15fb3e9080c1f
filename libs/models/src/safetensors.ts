// safetensors I/O: 8-byte little-endian header length, a JSON header, then raw little-endian data.
// Keys are PyTorch state_dict names; `__metadata__` is a string-to-string map.

export type SafeDType = 'F32' | 'F64' | 'I64' | 'I32' | 'U8';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** F32 → Float32Array, F64 → Float64Array, I64 → BigInt64Array, I32 → Int32Array, U8 → Uint8Array. */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1 };

export class SafeTensorsError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'SafeTensorsError';
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function typedView(dtype: SafeDType, bytes: Uint8Array, count: number): SafeTensor['data'] {
  // Copy into an aligned buffer: the data section of a file need not be aligned for typed arrays.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, count);
    case 'F64':
      return new Float64Array(copy.buffer, 0, count);
    case 'I64':
      return new BigInt64Array(copy.buffer, 0, count);
    case 'I32':
      return new Int32Array(copy.buffer, 0, count);
    case 'U8':
      return copy;
  }
}

export function parseSafeTensors(buf: Uint8Array, source = 'safetensors data'): SafeTensorsFile {
  if (buf.byteLength < 8) throw new SafeTensorsError(`${source}: ${buf.byteLength} bytes is too short for a safetensors header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8)
    throw new SafeTensorsError(`${source}: header length ${headerLen} exceeds the file size ${buf.byteLength}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafeTensorsError(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) throw new SafeTensorsError(`${source}: header must be a JSON object of tensors`);
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry) || !Object.values(entry).every((v) => typeof v === 'string'))
        throw new SafeTensorsError(`${source}: __metadata__ must map strings to strings`);
      metadata = entry as Record<string, string>;
      continue;
    }
    // Untrusted bytes (inline weights in requests): check the entry's structure before using it.
    const { dtype, shape, data_offsets } = (isRecord(entry) ? entry : {}) as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] };
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) throw new SafeTensorsError(`${source}: tensor ${name} has unsupported dtype ${dtype}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafeTensorsError(`${source}: tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw new SafeTensorsError(`${source}: tensor ${name} has invalid data_offsets ${JSON.stringify(data_offsets)}`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = data_offsets;
    if (end - begin !== count * BYTES[dtype] || dataStart + end > buf.byteLength)
      throw new SafeTensorsError(`${source}: tensor ${name} offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype}`);
    tensors.set(name, { dtype, shape, data: typedView(dtype, buf.subarray(dataStart + begin, dataStart + end), count) });
  }
  return { tensors, metadata };
}

export function serializeSafeTensors(file: SafeTensorsFile): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(file.metadata).length > 0) header.__metadata__ = file.metadata;
  let offset = 0;
  for (const [name, t] of file.tensors) {
    const len = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  // Pad the header to a multiple of 8 bytes with spaces, as the reference writer does.
  const raw = new TextEncoder().encode(json);
  json += ' '.repeat((8 - (raw.byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of file.tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
