// The small value model of our pickle reader and writer: plain Python data plus numpy arrays,
// nothing else. Python 2 `str` / Python 3 `bytes` are Uint8Array; `unicode` / `str` are strings.

/** A Python tuple, kept apart from lists so array shapes and states can be checked. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** Dict keys: strings (bytes keys are decoded as latin1, as `pickle.load(encoding='latin1')` does) or ints. */
export type PyKey = string | number;

/** numpy dtype, e.g. descr "u1" with byte order "|". */
export class NumpyDtype {
  byteOrder = '|';
  constructor(readonly descr: string) {}

  /** Bytes per element, from the descr's digits ("u1" → 1, "i8" → 8); 0 when unknown. */
  get itemSize(): number {
    const m = /^[biuf](\d+)$/.exec(this.descr);
    return m ? Number(m[1]) : 0;
  }
}

/** A numpy array: raw C- or Fortran-ordered bytes plus dtype and shape. */
export class NdArray {
  dtype: NumpyDtype | undefined;
  shape: number[] = [];
  fortran = false;
  data: Uint8Array = new Uint8Array(0);
  /** Byte offset of `data` inside the pickle it came from (-1 when built in memory). */
  dataOffset = -1;

  static of(data: Uint8Array, shape: number[], descr = 'u1'): NdArray {
    const a = new NdArray();
    a.dtype = new NumpyDtype(descr);
    a.shape = shape;
    a.data = data;
    return a;
  }
}

/** A callable global the reader allows (module + name); never executed, only interpreted. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PyValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | Map<PyKey, PyValue>
  | NdArray
  | NumpyDtype
  | PyGlobal;

/** A short description of a value's Python type, for error messages. */
export function pyTypeName(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof Map) return 'dict';
  if (v instanceof NdArray) return 'numpy.ndarray';
  if (v instanceof NumpyDtype) return 'numpy.dtype';
  return `global ${v.qualifiedName}`;
}
