// A safe reader for the Python pickles the CIFAR "python version" archives contain (protocol 2 from
// Python 2's cPickle) and for what Python 3 writes for the same data (protocols 2–5). It interprets
// only the opcodes plain dicts/lists/strings/ints and numpy arrays need; the only globals accepted
// are numpy's array/dtype reconstructors and `_codecs.encode`, which we re-implement here — no code
// from the file is ever run. Every error names the file and the byte offset of the opcode.

import { DataError } from './errors.js';
import { NdArray, NumpyDtype, PyGlobal, PyTuple, pyTypeName, type PyKey, type PyValue } from './pickle-values.js';

/** Globals a CIFAR pickle may name. Anything else is refused. */
const ALLOWED_GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.ndarray',
  'numpy.dtype',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  '_codecs.encode',
]);

const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE', 0x28: 'MARK',
  0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET',
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x8a: 'LONG1',
  0x47: 'BINFLOAT', 0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x55: 'SHORT_BINSTRING', 0x54: 'BINSTRING',
  0x43: 'SHORT_BINBYTES', 0x42: 'BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x8c: 'SHORT_BINUNICODE',
  0x58: 'BINUNICODE', 0x8d: 'BINUNICODE8', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x52: 'REDUCE', 0x62: 'BUILD', 0x61: 'APPEND', 0x65: 'APPENDS', 0x73: 'SETITEM', 0x75: 'SETITEMS', 0x2e: 'STOP',
};

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Parses one pickle; `file` names it in errors. */
export function readPickle(bytes: Uint8Array, file: string): PyValue {
  return new Unpickler(bytes, file).run();
}

class Unpickler {
  private pos = 0;
  /** Offset of the opcode being executed, for error messages. */
  private at = 0;
  private op = '';
  private readonly stack: StackItem[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PyValue {
    if (this.bytes.length === 0) throw this.error('file is empty (0 bytes); expected a Python pickle', 'size');
    for (;;) {
      this.at = this.pos;
      if (this.pos >= this.bytes.length) {
        throw this.error(
          `pickle is truncated: it ends at byte ${this.bytes.length} without the STOP opcode. Re-download / re-extract the archive.`,
          'size',
        );
      }
      const code = this.bytes[this.pos++];
      this.op = OPCODE_NAMES[code] ?? `0x${code.toString(16).padStart(2, '0')}`;
      if (code === 0x2e) return this.popValue();
      this.step(code);
    }
  }

  private step(code: number): void {
    switch (code) {
      case 0x80: {
        const proto = this.u8();
        if (proto > 5) throw this.error(`unsupported pickle protocol ${proto} (this reader knows 2..5)`);
        return;
      }
      case 0x95: // FRAME: a length prefix only; the opcodes follow inline.
        this.take(8);
        return;
      case 0x7d: return this.push(new Map<PyKey, PyValue>());
      case 0x5d: return this.push([]);
      case 0x29: return this.push(new PyTuple([]));
      case 0x28: this.stack.push(MARK); return;
      case 0x71: return this.memoPut(this.u8());
      case 0x72: return this.memoPut(this.u32());
      case 0x94: return this.memoPut(this.memo.size);
      case 0x68: return this.memoGet(this.u8());
      case 0x6a: return this.memoGet(this.u32());
      case 0x63: {
        const module = this.line();
        const name = this.line();
        return this.push(this.global(module, name));
      }
      case 0x93: {
        const name = this.popValue();
        const module = this.popValue();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.error('STACK_GLOBAL needs two strings');
        return this.push(this.global(module, name));
      }
      case 0x4a: return this.push(this.view.getInt32(this.take(4), true));
      case 0x4b: return this.push(this.u8());
      case 0x4d: return this.push(this.view.getUint16(this.take(2), true));
      case 0x8a: return this.push(this.long1());
      case 0x47: return this.push(this.view.getFloat64(this.take(8), false));
      case 0x4e: return this.push(null);
      case 0x88: return this.push(true);
      case 0x89: return this.push(false);
      case 0x55: case 0x43: return this.push(this.raw(this.u8()));
      case 0x54: {
        const n = this.view.getInt32(this.take(4), true);
        if (n < 0) throw this.error(`negative string length ${n}`);
        return this.push(this.raw(n));
      }
      case 0x42: return this.push(this.raw(this.u32()));
      case 0x8e: case 0x96: return this.push(this.raw(this.u64()));
      case 0x8c: return this.push(this.utf8(this.u8()));
      case 0x58: return this.push(this.utf8(this.u32()));
      case 0x8d: return this.push(this.utf8(this.u64()));
      case 0x74: return this.push(new PyTuple(this.popMark()));
      case 0x85: return this.push(new PyTuple(this.popN(1)));
      case 0x86: return this.push(new PyTuple(this.popN(2)));
      case 0x87: return this.push(new PyTuple(this.popN(3)));
      case 0x52: {
        const args = this.popValue();
        const fn = this.popValue();
        if (!(fn instanceof PyGlobal) || !(args instanceof PyTuple)) {
          throw this.error(`REDUCE needs an allowed global and an argument tuple, got ${pyTypeName(fn)} and ${pyTypeName(args)}`);
        }
        return this.push(this.reduce(fn, args.items));
      }
      case 0x62: {
        const state = this.popValue();
        this.build(this.topValue(), state);
        return;
      }
      case 0x61: {
        const v = this.popValue();
        this.listAt(this.stack.length - 1).push(v);
        return;
      }
      case 0x65: {
        const items = this.popMark();
        this.listAt(this.stack.length - 1).push(...items);
        return;
      }
      case 0x73: {
        const [k, v] = this.popN(2);
        this.dictAt(this.stack.length - 1).set(this.key(k), v);
        return;
      }
      case 0x75: {
        const items = this.popMark();
        if (items.length % 2 !== 0) throw this.error(`SETITEMS got an odd number (${items.length}) of keys and values`);
        const d = this.dictAt(this.stack.length - 1);
        for (let i = 0; i < items.length; i += 2) d.set(this.key(items[i]), items[i + 1]);
        return;
      }
      default:
        throw this.error(
          `unsupported pickle opcode ${this.op} — this is not a CIFAR python-version file, or it is corrupt. ` +
            `Only plain data and numpy arrays are read (no code runs).`,
        );
    }
  }

  // ---- Python semantics of the allowed globals (re-implemented, never executed) ----

  private global(module: string, name: string): PyGlobal {
    const g = new PyGlobal(module, name);
    if (!ALLOWED_GLOBALS.has(g.qualifiedName)) {
      throw this.error(`refusing global ${g.qualifiedName}: only numpy arrays and plain data are read from pickles (no code runs)`);
    }
    return g;
  }

  private reduce(fn: PyGlobal, args: PyValue[]): PyValue {
    switch (fn.name) {
      case '_reconstruct': {
        const cls = args[0];
        if (!(cls instanceof PyGlobal) || cls.qualifiedName !== 'numpy.ndarray') throw this.error('_reconstruct only builds numpy.ndarray');
        return new NdArray();
      }
      case 'dtype': {
        if (typeof args[0] !== 'string' && !(args[0] instanceof Uint8Array)) throw this.error('numpy.dtype needs a type string');
        return new NumpyDtype(typeof args[0] === 'string' ? args[0] : latin1(args[0]));
      }
      case 'encode': {
        // _codecs.encode(text, 'latin1'): how Python 3 writes bytes in protocol 2.
        const [text, enc] = args;
        if (typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw this.error("_codecs.encode is only read as encode(str, 'latin1')");
        const out = Buffer.from(text, 'latin1');
        for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 255) throw this.error('_codecs.encode: character above U+00FF');
        return out;
      }
      case '_frombuffer': {
        // numpy's protocol-5 form: _frombuffer(buffer, dtype, shape, order).
        const [buf, dtype, shape, order] = args;
        if (!(buf instanceof Uint8Array) || !(dtype instanceof NumpyDtype)) throw this.error('_frombuffer needs bytes and a dtype');
        const a = new NdArray();
        a.dtype = dtype;
        a.shape = this.shape(shape);
        a.fortran = order === 'F';
        a.data = buf;
        this.checkArraySize(a);
        return a;
      }
      default:
        throw this.error(`cannot call ${fn.qualifiedName}`);
    }
  }

  private build(target: PyValue, state: PyValue): void {
    if (!(state instanceof PyTuple)) throw this.error(`BUILD state must be a tuple, got ${pyTypeName(state)}`);
    const s = state.items;
    if (target instanceof NumpyDtype) {
      if (typeof s[1] === 'string') target.byteOrder = s[1];
      return;
    }
    if (target instanceof NdArray) {
      // numpy's ndarray.__setstate__: (version, shape, dtype, is_fortran, rawdata), version optional.
      const [shape, dtype, fortran, raw] = s.length === 5 ? s.slice(1) : s;
      if (!(dtype instanceof NumpyDtype)) throw this.error(`array state has no dtype (got ${pyTypeName(dtype)})`);
      if (!(raw instanceof Uint8Array)) throw this.error(`array data must be raw bytes, got ${pyTypeName(raw)} (object arrays are not supported)`);
      target.shape = this.shape(shape);
      target.dtype = dtype;
      target.fortran = fortran === true;
      target.data = raw;
      // Only a view into the file has a file offset (not bytes rebuilt by _codecs.encode).
      if (raw.buffer === this.bytes.buffer) target.dataOffset = raw.byteOffset - this.bytes.byteOffset;
      this.checkArraySize(target);
      return;
    }
    throw this.error(`BUILD on ${pyTypeName(target)} is not supported`);
  }

  private shape(v: PyValue): number[] {
    if (!(v instanceof PyTuple) || !v.items.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw this.error(`array shape must be a tuple of non-negative ints, got ${pyTypeName(v)}`);
    }
    return v.items as number[];
  }

  private checkArraySize(a: NdArray): void {
    const size = a.dtype?.itemSize ?? 0;
    if (size === 0) throw this.error(`unsupported array dtype "${a.dtype?.descr}" (only bool/int/uint/float)`);
    const expected = a.shape.reduce((n, d) => n * d, 1) * size;
    if (a.data.length !== expected) {
      throw this.error(`array of shape (${a.shape.join(', ')}) and dtype ${a.dtype?.descr} needs ${expected} bytes, the pickle holds ${a.data.length}`);
    }
  }

  // ---- stack, memo and byte helpers ----

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private popValue(): PyValue {
    const v = this.stack.pop();
    if (v === undefined || v === MARK) throw this.error('stack underflow (corrupt pickle)');
    return v;
  }

  private topValue(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) throw this.error('stack underflow (corrupt pickle)');
    return v;
  }

  private popN(n: number): PyValue[] {
    const out = new Array<PyValue>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.popValue();
    return out;
  }

  private popMark(): PyValue[] {
    const k = this.stack.lastIndexOf(MARK);
    if (k < 0) throw this.error('no MARK on the stack (corrupt pickle)');
    const items = this.stack.splice(k) as StackItem[];
    return items.slice(1) as PyValue[];
  }

  private listAt(i: number): PyValue[] {
    const v = this.stack[i];
    if (!Array.isArray(v)) throw this.error(`expected a list on the stack, got ${v === MARK ? 'MARK' : pyTypeName(v)}`);
    return v;
  }

  private dictAt(i: number): Map<PyKey, PyValue> {
    const v = this.stack[i];
    if (!(v instanceof Map)) throw this.error(`expected a dict on the stack, got ${v === MARK ? 'MARK' : pyTypeName(v)}`);
    return v;
  }

  private key(k: PyValue): PyKey {
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (k instanceof Uint8Array) return latin1(k);
    throw this.error(`unsupported dict key type ${pyTypeName(k)}`);
  }

  private memoPut(i: number): void {
    this.memo.set(i, this.topValue());
  }

  private memoGet(i: number): void {
    const v = this.memo.get(i);
    if (v === undefined) throw this.error(`memo entry ${i} was never stored (corrupt pickle)`);
    this.push(v);
  }

  /** Reserves `n` bytes and returns their start offset, or throws "truncated". */
  private take(n: number): number {
    const start = this.pos;
    if (n > this.bytes.length - start) {
      throw this.error(
        `pickle is truncated: ${this.op} needs ${n} bytes from offset ${start} but the file ends at ${this.bytes.length}. ` +
          `Re-download / re-extract the archive.`,
        'size',
      );
    }
    this.pos += n;
    return start;
  }

  private u8(): number {
    return this.bytes[this.take(1)];
  }

  private u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  private u64(): number {
    const n = this.view.getBigUint64(this.take(8), true);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`length ${n} is too large`);
    return Number(n);
  }

  private long1(): number {
    const n = this.u8();
    if (n > 6) throw this.error(`LONG1 of ${n} bytes does not fit a safe integer`);
    const at = this.take(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + this.bytes[at + i];
    // Two's complement: the top bit of the last byte is the sign.
    if (n > 0 && this.bytes[at + n - 1] >= 0x80) v -= 2 ** (8 * n);
    return v;
  }

  /** A view into the file (no copy): the large pixel arrays stay where they are. */
  private raw(n: number): Uint8Array {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }

  private utf8(n: number): string {
    const at = this.take(n);
    try {
      return this.text.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw this.error('string is not valid UTF-8');
    }
  }

  /** A newline-terminated line (GLOBAL's module and name). */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 256) throw this.error('GLOBAL name is not newline-terminated', 'size');
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private error(message: string, field = 'pickle'): DataError {
    return new DataError(`${this.file}: ${message} (opcode ${this.op || '?'} at byte offset ${this.at})`, {
      file: this.file,
      offset: this.at,
      field,
    });
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
