/**
 * A small seeded random number generator for tests: mulberry32 for uniforms and
 * Box-Muller for normals. Deterministic for a given seed on every platform.
 */

/** A seeded source of random numbers. */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (mean 0, variance 1). */
  normal(): number;
}

/** Creates a generator from a 32-bit integer seed; the same seed gives the same sequence. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  // mulberry32: 32-bit state, passes the usual statistical batteries well enough for tests.
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  let spare: number | null = null;
  const uniform = (): number => next32() / 4294967296;
  const normal = (): number => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - uniform();
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
  return { uniform, normal };
}
