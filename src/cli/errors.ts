/**
 * Errors the command line reports as one line on stderr with exit code 2
 * (bad flags, bad values, missing files), and value parsers for options.
 */
import { existsSync, statSync } from 'node:fs';

/** A user error: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  /** @param message - The one-line message shown to the user. */
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses an integer option in [min, max]; throws UsageError naming the flag. */
export function intOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
      throw new UsageError(`${flag} must be ${range}, got '${value}'`);
    }
    return n;
  };
}

/** Parses a finite number option, > min (exclusive) or >= min (inclusive). */
export function numberOption(flag: string, min: number, exclusive = false, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (exclusive ? n > min : n >= min) && n <= max;
    if (!ok) {
      const bound = exclusive ? `> ${min}` : `>= ${min}`;
      throw new UsageError(`${flag} must be a number ${bound}${max < Infinity ? ` and <= ${max}` : ''}, got '${value}'`);
    }
    return n;
  };
}

/** Parses one of a fixed set of choices. */
export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}

/** Checks that a file exists and is a regular file; throws UsageError naming it. */
export function requireFile(flag: string, path: string): string {
  if (!existsSync(path)) throw new UsageError(`${flag}: file not found: ${path}`);
  if (!statSync(path).isFile()) throw new UsageError(`${flag}: not a file: ${path}`);
  return path;
}
