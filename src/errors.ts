/**
 * The one place that builds rnnblas' error messages, so they read alike:
 * "Expected <what> for <name> but received <value>".
 */

/** Short printable form of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `${value}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const len = (value as unknown as { length?: number }).length;
    return len === undefined ? `a ${name}` : `a ${name} of length ${len}`;
  }
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** A TypeError for an argument of the wrong kind; `actual` is the value received. */
export function typeError(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

/**
 * A RangeError for an argument of the right kind but a bad value or size.
 * `actual` is the value received, or a string that already describes it (used
 * as is: pass user strings through `describe` to have them quoted).
 */
export function rangeError(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${received(actual)}`);
}

function received(actual: unknown): string {
  return typeof actual === 'string' ? actual : describe(actual);
}

/**
 * Joins at most `limit` items with ', ' and says how many were left out, so an error message
 * about a hostile input (a million names, a shape with a million dims) stays short.
 */
export function cappedList(items: readonly unknown[], limit = 8): string {
  const shown = items.slice(0, limit).map((v) => (typeof v === 'string' ? v : String(v)));
  return items.length > limit ? `${shown.join(', ')}, … (${items.length - limit} more)` : shown.join(', ');
}
