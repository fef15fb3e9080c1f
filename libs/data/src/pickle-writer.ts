// Writes pickles the way Python 2's cPickle wrote the CIFAR "python version" files (protocol 2):
// dict keys and bytes as Python 2 `str` (SHORT_BINSTRING / BINSTRING), numpy arrays through
// numpy.core.multiarray._reconstruct + BUILD, lists appended in batches of 1000, memo via BINPUT.
// Used to make datasets in that layout (tests, synthetic data, test archives for `data fetch`);
// Python reads the output with pickle.load(f, encoding='bytes') or encoding='latin1'.

import { NdArray, NumpyDtype, PyGlobal, PyTuple, type PyValue } from './pickle-values.js';

/** cPickle's batch size for APPENDS / SETITEMS. */
const BATCH = 1000;

export function writePickle(value: PyValue): Uint8Array {
  const w = new PickleWriter();
  w.bytes([0x80, 2]);
  w.value(value);
  w.bytes([0x2e]);
  return w.result();
}

class PickleWriter {
  private readonly chunks: Uint8Array[] = [];
  private memo = 0;

  result(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  bytes(b: ArrayLike<number>): void {
    this.chunks.push(Uint8Array.from(b));
  }

  private ascii(s: string): void {
    this.chunks.push(Buffer.from(s, 'latin1'));
  }

  private u32(code: number, n: number): void {
    const b = Buffer.alloc(5);
    b[0] = code;
    b.writeInt32LE(n, 1);
    this.chunks.push(b);
  }

  private put(): void {
    this.memo++;
    if (this.memo < 256) this.bytes([0x71, this.memo]);
    else this.u32(0x72, this.memo);
  }

  value(v: PyValue): void {
    if (v === null) return this.bytes([0x4e]);
    if (typeof v === 'boolean') return this.bytes([v ? 0x88 : 0x89]);
    if (typeof v === 'number') return this.number(v);
    if (typeof v === 'string') return this.unicode(v);
    if (v instanceof Uint8Array) return this.str(v);
    if (Array.isArray(v)) return this.list(v);
    if (v instanceof PyTuple) return this.tuple(v.items);
    if (v instanceof Map) return this.dict(v);
    if (v instanceof NdArray) return this.ndarray(v);
    if (v instanceof NumpyDtype) return this.dtype(v);
    if (v instanceof PyGlobal) return this.global(v.module, v.name);
    throw new TypeError('unsupported value');
  }

  private number(v: number): void {
    if (!Number.isInteger(v)) {
      const b = Buffer.alloc(9);
      b[0] = 0x47;
      b.writeDoubleBE(v, 1);
      this.chunks.push(b);
    } else if (v >= 0 && v < 256) this.bytes([0x4b, v]);
    else if (v >= 0 && v < 65536) this.bytes([0x4d, v & 0xff, v >> 8]);
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.u32(0x4a, v);
    else throw new RangeError(`integer ${v} does not fit BININT (the writer does not emit LONG)`);
  }

  /** Python 2 str (bytes); the pixel data and numpy's small internal strings are not memoised, as in cPickle's output. */
  private str(b: Uint8Array, memo = true): void {
    if (b.length < 256) this.bytes([0x55, b.length]);
    else this.u32(0x54, b.length);
    this.chunks.push(b);
    if (memo) this.put();
  }

  private unicode(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(0x58, b.length);
    this.chunks.push(b);
    this.put();
  }

  private list(items: PyValue[]): void {
    this.bytes([0x5d]);
    this.put();
    for (let i = 0; i < items.length; i += BATCH) {
      this.bytes([0x28]);
      for (const x of items.slice(i, i + BATCH)) this.value(x);
      this.bytes([0x65]);
    }
  }

  private tuple(items: PyValue[]): void {
    if (items.length === 0) return this.bytes([0x29]);
    if (items.length > 3) this.bytes([0x28]);
    for (const x of items) this.value(x);
    this.bytes([items.length === 1 ? 0x85 : items.length === 2 ? 0x86 : items.length === 3 ? 0x87 : 0x74]);
  }

  /** String keys are written as Python 2 str, as in the CIFAR files. */
  private dict(d: Map<string | number, PyValue>): void {
    this.bytes([0x7d]);
    this.put();
    const entries = [...d];
    for (let i = 0; i < entries.length; i += BATCH) {
      this.bytes([0x28]);
      for (const [k, v] of entries.slice(i, i + BATCH)) {
        if (typeof k === 'string') this.str(Buffer.from(k, 'latin1'));
        else this.number(k);
        this.value(v);
      }
      this.bytes([0x75]);
    }
  }

  private global(module: string, name: string): void {
    this.ascii(`c${module}\n${name}\n`);
    this.put();
  }

  private dtype(d: NumpyDtype): void {
    this.global('numpy', 'dtype');
    this.str(Buffer.from(d.descr, 'latin1'), false);
    this.bytes([0x4b, 0, 0x4b, 1, 0x87, 0x52]);
    this.put();
    // BUILD with the dtype state (3, byteorder, None, None, None, -1, -1, 0).
    this.bytes([0x28, 0x4b, 3]);
    this.str(Buffer.from(d.byteOrder, 'latin1'), false);
    this.bytes([0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0, 0x74, 0x62]);
  }

  private ndarray(a: NdArray): void {
    this.global('numpy.core.multiarray', '_reconstruct');
    this.global('numpy', 'ndarray');
    this.bytes([0x4b, 0, 0x85]); // shape (0,)
    this.str(Buffer.from('b'), false);
    this.bytes([0x87, 0x52]);
    this.put();
    // BUILD with (1, shape, dtype, is_fortran, rawdata).
    this.bytes([0x28, 0x4b, 1]);
    this.tuple(a.shape);
    this.dtype(a.dtype ?? new NumpyDtype('u1'));
    this.bytes([a.fortran ? 0x88 : 0x89]);
    this.str(a.data, false);
    this.bytes([0x74, 0x62]);
  }
}
