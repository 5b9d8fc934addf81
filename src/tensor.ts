/**
 * Dense float32 tensors: a flat row-major buffer plus a shape.
 */
import { rangeError, typeError } from './errors.js';
import { checkInt, checkedSize } from './validate.js';

/** A row-major float32 tensor. `data.length` equals the product of `shape`. */
export interface Tensor {
  /** The elements, row-major (last axis fastest). */
  readonly data: Float32Array;
  /** The size of each axis. */
  readonly shape: readonly number[];
}

/** Integer ids (for Embedding, class targets, token batches), row-major. `data.length` equals the product of `shape`. */
export interface IntTensor {
  /** The ids. */
  readonly data: Int32Array;
  /** The size of each axis. */
  readonly shape: readonly number[];
}

/** A trainable parameter: PyTorch's name, the shape, the values and their accumulated gradient. */
export interface Parameter {
  /** The state-dict name, e.g. `weight_ih_l0` or `1.weight`. */
  readonly name: string;
  /** The parameter's shape. */
  readonly shape: readonly number[];
  /** The values (updated in place by optimizers). */
  readonly data: Float32Array;
  /** The gradient, accumulated by `backward` and cleared by `zeroGrad`. */
  readonly grad: Float32Array;
}

/** Number of elements a shape holds. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks a shape: an array of non-negative integers whose product fits a buffer. */
export function checkShape(name: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw typeError(name, 'an array of non-negative integers', shape);
  shape.forEach((d, i) => checkInt(`${name}[${i}]`, d, 0));
  checkedSize(name, shape as number[]);
  return Object.freeze([...(shape as number[])]);
}

/**
 * Builds a tensor from a Float32Array (used without copying) or an array of numbers,
 * checking that the element count matches the shape.
 */
export function tensor(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
  const s = checkShape('shape', shape);
  const n = numel(s);
  let buf: Float32Array;
  if (data instanceof Float32Array) {
    buf = data;
  } else if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) {
    buf = Float32Array.from(data as ArrayLike<number>);
  } else {
    throw typeError('data', 'a Float32Array or an array of numbers', data);
  }
  if (buf.length !== n) {
    throw rangeError('data', `${n} elements (shape [${s.join(', ')}])`, `${buf.length} elements`);
  }
  return { data: buf, shape: s };
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  const s = checkShape('shape', shape);
  return { data: new Float32Array(numel(s)), shape: s };
}

/**
 * Checks that `value` is a Tensor with a Float32Array of the expected shape.
 * `expected` entries of -1 accept any size on that axis. Returns the tensor.
 */
export function checkTensor(name: string, value: unknown, expected: readonly number[], derivation?: string): Tensor {
  if (value === null || typeof value !== 'object') throw typeError(name, 'a Tensor { data, shape }', value);
  const t = value as { data?: unknown; shape?: unknown };
  if (!(t.data instanceof Float32Array)) throw typeError(`${name}.data`, 'a Float32Array', t.data);
  if (!Array.isArray(t.shape)) throw typeError(`${name}.shape`, 'an array of integers', t.shape);
  const shape = t.shape as number[];
  const want = `[${expected.map((d) => (d < 0 ? '*' : `${d}`)).join(', ')}]${derivation ? ` (${derivation})` : ''}`;
  if (shape.length !== expected.length || shape.some((d, i) => !Number.isInteger(d) || (expected[i] >= 0 && d !== expected[i]))) {
    throw rangeError(`${name}.shape`, `shape ${want}`, `[${shape.join(', ')}]`);
  }
  if (shape.some((d) => d < 0)) throw rangeError(`${name}.shape`, 'non-negative sizes', `[${shape.join(', ')}]`);
  if (t.data.length !== numel(shape)) {
    throw rangeError(`${name}.data`, `${numel(shape)} elements for shape [${shape.join(', ')}]`, `${t.data.length} elements`);
  }
  return value as Tensor;
}
