/**
 * A small seedable generator (xoshiro128**) for initialisation, dropout and
 * shuffling, so that runs with the same seed are bit-identical.
 */
import { rangeError } from './errors.js';
import { checkInt } from './validate.js';

/** The generator's full state, for checkpoints. */
export type RngState = [number, number, number, number];

/** Seeded pseudo-random numbers. */
export class Rng {
  private s: Uint32Array = new Uint32Array(4);

  /** Seeds with an integer (default: a random seed). */
  constructor(seed?: number) {
    this.seed(seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Reseeds (splitmix32 expands the seed into the four state words). */
  seed(seed: number): void {
    checkInt('seed', seed, 0, 2 ** 53);
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** The state, to restore with setState. */
  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /**
   * Restores a state from getState. The all-zero state is refused with a RangeError:
   * xoshiro128** never leaves it (every draw would be 0, every dropout mask would drop
   * everything), and no seed produces it.
   */
  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4) throw new TypeError('Expected an RNG state of four 32-bit integers');
    state.forEach((w, i) => checkInt(`state[${i}]`, w, 0, 0xffffffff));
    if (!isValidRngState(state)) throw rangeError('state', 'an RNG state with at least one non-zero word (the all-zero state is a fixed point)', '[0, 0, 0, 0]');
    this.s.set(state);
  }
}

/**
 * Whether `state` is a usable generator state: four integers in 0..2^32-1, not all zero.
 *
 * @param state - the candidate state.
 * @returns true when {@link Rng.setState} accepts it.
 */
export function isValidRngState(state: unknown): state is RngState {
  return (
    Array.isArray(state) &&
    state.length === 4 &&
    state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
    state.some((w) => w !== 0)
  );
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
