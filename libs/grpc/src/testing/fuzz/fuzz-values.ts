// Random field values for fuzzing, drawn from a seeded PRNG (the caller's, from libs/common, which
// this lib may not import) so a failing run replays from its seed. Biased towards the values that
// break code: edges of each type, NaN, ±Inf, unknown enum numbers, path-like and oversized strings.

/** A uniform generator over [0, 1) (libs/common's mulberry32 fits). */
export type FuzzRng = () => number;

const UINT32_EDGES = [0, 1, 2, 3, 7, 8, 10, 31, 32, 64, 127, 128, 255, 256, 1024, 4096, 4097, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const DOUBLE_EDGES = [0, -0, 1, -1, 0.5, 2, 5, 95, 96, 100, 200, 1e-3, 1e4, 1e4 + 1, 1e308, -1e308, 5e-324, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53)];
const TEXT_EDGES = [
  '',
  'syn',
  'cifar10',
  '../x',
  '../../etc/passwd',
  '/etc/passwd',
  'a/../../b',
  '..',
  '.',
  './syn',
  'C:\\Windows',
  'syn\u0000',
  '\n',
  '🙂',
  'mag_based',
  'loss_based',
  'grasp',
  'random',
  'resnet56',
  'vgg13',
  '%s%n',
  'x'.repeat(257),
  'y'.repeat(70_000),
];

export class FuzzValues {
  constructor(readonly rng: FuzzRng) {}

  bool(p = 0.5): boolean {
    return this.rng() < p;
  }

  int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A proto uint32: an edge value, a small count or any 32-bit number. */
  uint32(): number {
    const r = this.rng();
    if (r < 0.45) return this.pick(UINT32_EDGES);
    if (r < 0.8) return this.int(300);
    return this.int(2 ** 32);
  }

  /** A proto uint64 as ts-proto carries it (a safe integer). */
  uint64(): number {
    const r = this.rng();
    if (r < 0.3) return this.pick([0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]);
    if (r < 0.7) return this.int(1000);
    return Math.floor(this.rng() * Number.MAX_SAFE_INTEGER);
  }

  /** A proto int64: uint64's values and their negatives. */
  int64(): number {
    return this.bool(0.3) ? -this.uint64() : this.uint64();
  }

  double(): number {
    const r = this.rng();
    if (r < 0.5) return this.pick(DOUBLE_EDGES);
    if (r < 0.8) return (this.rng() - 0.5) * 20;
    return (this.rng() - 0.5) * 10 ** this.int(40);
  }

  /** A value of a ts-proto enum object, or a number it does not name. */
  enumValue(values: Record<string, string | number>): number {
    const named = Object.values(values).filter((v): v is number => typeof v === 'number' && v >= 0);
    return this.bool(0.7) ? this.pick(named) : this.pick([-1, 3, 99, 2 ** 31 - 1]);
  }

  /** One of the given good strings, an edge string, or random printable/any characters. */
  text(good: readonly string[] = []): string {
    const r = this.rng();
    if (r < 0.35 && good.length > 0) return this.pick(good);
    if (r < 0.75) return this.pick(TEXT_EDGES);
    const n = this.int(40);
    const any = this.bool(0.3);
    return Array.from({ length: n }, () => String.fromCharCode(any ? this.int(0x3000) : 32 + this.int(95))).join('');
  }

  bytes(maxLength = 4096): Buffer {
    const n = this.bool(0.2) ? 0 : this.int(maxLength + 1);
    const b = Buffer.alloc(n);
    const fill = this.rng();
    if (fill < 0.3) b.fill(0xff);
    else if (fill < 0.6) for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  maybe<T>(make: () => T, p = 0.7): T | undefined {
    return this.bool(p) ? make() : undefined;
  }

  array<T>(make: () => T, max = 4): T[] {
    return Array.from({ length: this.int(max + 1) }, make);
  }

  /** A proto map<string, double> whose keys are mostly the given names. */
  doubleMap(names: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = this.int(4); i > 0; i--) out[this.bool(0.8) && names.length ? this.pick(names) : this.text()] = this.double();
    return out;
  }
}
