/**
 * Argument predicates and checks used at the public boundary. Everything that
 * reaches `src/native/` has passed through here first.
 */
import { cappedList, describe, rangeError, typeError } from './errors.js';

/** Largest element count rnnblas accepts for one buffer (V8's typed-array limit is near 2^32). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** A finite integer >= min (and <= max). */
export function checkInt(name: string, value: unknown, min = 0, max = MAX_ELEMENTS): number {
  if (typeof value !== 'number') throw typeError(name, `an integer in ${min}..${max}`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(name, `an integer in ${min}..${max}`, value);
  }
  return value;
}

/** A finite number (optionally within [min, max]). */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw typeError(name, 'a number', value);
  if (!Number.isFinite(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? 'a finite number' : `a number in [${min}, ${max}]`;
    throw rangeError(name, range, value);
  }
  return value;
}

/** A boolean. */
export function checkBool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

/** One of a fixed set of strings. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`).join(', ');
    if (typeof value !== 'string') throw typeError(name, `one of ${list}`, value);
    throw rangeError(name, `one of ${list}`, describe(value));
  }
  return value as T;
}

/** A plain options object (or undefined → {}); unknown keys are an error. */
export function checkOptions<T extends object>(name: string, value: unknown, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(name, 'an options object', value);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw rangeError(name, `only the options ${known.map((k) => `'${k}'`).join(', ')}`, `an unknown option '${key}'`);
    }
  }
  return value as Partial<T>;
}

/**
 * Product of dims, refusing anything beyond `max` (default MAX_ELEMENTS). The product of the
 * non-zero dims is bounded too, so an empty shape such as [0, 2e9] is refused like [2e9]: code
 * that loops over one axis of an empty tensor stays bounded by the same limit.
 */
export function checkedSize(name: string, shape: readonly number[], max: number = MAX_ELEMENTS): number {
  let n = 1;
  let nonZero = 1;
  for (const d of shape) {
    n *= d;
    if (d !== 0) nonZero *= d;
    if (n > max || nonZero > max) {
      const what = shape.includes(0) ? `shape [${cappedList(shape)}] (empty, but its non-zero dims multiply past the limit)` : `shape [${cappedList(shape)}]`;
      throw rangeError(name, `a total size of at most ${max} elements`, what);
    }
  }
  return n;
}

/** A Float32Array that holds only finite values (used when checking inputs is asked for). */
export function checkFinite(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw rangeError(name, 'finite values', `${data[i]} at index ${i}`);
    }
  }
}
