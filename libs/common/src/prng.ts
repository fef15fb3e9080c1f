// Small deterministic PRNGs. We need streams that are reproducible from integers such as
// (seed, epoch, position) on any machine, which Math.random cannot give.

/** splitmix32-style finaliser: turns any 32-bit integer into a well-mixed 32-bit integer. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Combines several integers (seed, epoch, position, stream tag, ...) into one 32-bit seed.
 * Order matters, so (seed=1, epoch=2) and (seed=2, epoch=1) give different streams.
 */
export function hashSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // Fold the high bits in too so seeds above 2^32 do not silently collide.
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = mix32(h ^ lo);
    h = mix32(h ^ hi);
  }
  return h;
}

/** A uniform generator over [0, 1). */
export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for shuffling and augmentation draws. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Approximately standard normal (Box–Muller), for pixel noise. */
export function randomNormal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1], avoids log(0)
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
