/**
 * In-memory sequence datasets: example-major tensors (`[N, T, ...]`, the
 * natural layout for building and splitting data) turned into time-major
 * batches (`[T, B, ...]`, what the models take).
 */
import { describe, rangeError, typeError } from '../errors.js';
import { Rng } from '../random.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkBool, checkInt, checkNumber, checkOptions } from '../validate.js';

/**
 * A dataset of N sequences, example-major.
 *
 * - `x`: float features `[N, T, F]` (a Tensor) or token ids `[N, T]` (an IntTensor, for a model starting with Embedding).
 * - `y`: one of
 *   - `[N, T]` IntTensor: a class id per step (seq-to-seq classification),
 *   - `[N, T, C]` Tensor: a target vector per step (seq-to-seq regression),
 *   - `[N]` IntTensor: a class id per sequence (seq-to-one classification),
 *   - `[N, C]` Tensor: a target vector per sequence (seq-to-one regression).
 * - `seqLengths`: optional valid length of each sequence (1..T); steps past it are padding.
 */
export interface SequenceDataset {
  /** Inputs, `[N, T, F]` float or `[N, T]` ids. */
  readonly x: Tensor | IntTensor;
  /** Targets: `[N, T]` ids, `[N, T, C]` float, `[N]` ids or `[N, C]` float. */
  readonly y: Tensor | IntTensor;
  /** Valid length of each sequence, in 1..T (absent: all T). */
  readonly seqLengths?: Int32Array;
}

/** What the targets of a dataset are (derived from the type and rank of `y`). */
export type TargetKind = 'classPerStep' | 'valuePerStep' | 'classPerSequence' | 'valuePerSequence';

/** Facts about a validated dataset. */
export interface DatasetInfo {
  /** Number of sequences. */
  readonly size: number;
  /** Padded sequence length. */
  readonly steps: number;
  /** Features per step of `x` (1 for ids). */
  readonly features: number;
  /** Whether `x` holds ids. */
  readonly ids: boolean;
  /** What `y` holds. */
  readonly target: TargetKind;
  /** Classes (C) for float targets per step or per sequence; 1 for class ids. */
  readonly targetWidth: number;
}

/**
 * A time-major batch ready for `Sequential.forward(x, { seqLengths })`.
 * `x` is `[T, B, F]` (or `[T, B]` ids); `y` is `[T, B]` ids, `[T, B, C]`,
 * `[B]` ids or `[B, C]` following the dataset's target kind.
 */
export interface Batch {
  /** Inputs, time-major. */
  readonly x: Tensor | IntTensor;
  /** Targets, time-major for per-step targets. */
  readonly y: Tensor | IntTensor;
  /** Valid lengths of the batch's sequences, or null when they all use every step. */
  readonly seqLengths: Int32Array | null;
}

/** True for an IntTensor (ids), false for a float Tensor. */
export function isIntTensor(t: Tensor | IntTensor): t is IntTensor {
  return t.data instanceof Int32Array;
}

function checkAnyTensor(name: string, value: unknown): Tensor | IntTensor {
  if (value === null || typeof value !== 'object') throw typeError(name, 'a Tensor (Float32Array data) or an IntTensor (Int32Array data)', value);
  const t = value as { data?: unknown; shape?: unknown };
  if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array)) {
    throw typeError(`${name}.data`, 'a Float32Array or an Int32Array', t.data);
  }
  if (!Array.isArray(t.shape) || t.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw typeError(`${name}.shape`, 'an array of non-negative integers', t.shape);
  }
  const n = (t.shape as number[]).reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw rangeError(`${name}.data`, `${n} elements for shape [${(t.shape as number[]).join(', ')}]`, `${t.data.length} elements`);
  return value as Tensor | IntTensor;
}

/**
 * Validates a dataset and describes it.
 *
 * @param name - The argument's name for error messages.
 * @param data - The dataset.
 * @returns Its size, length, features and target kind.
 * @throws TypeError / RangeError naming what is wrong.
 */
export function checkDataset(name: string, data: unknown): DatasetInfo {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw typeError(name, 'a SequenceDataset { x, y, seqLengths? }', data);
  checkOptions(name, data, ['x', 'y', 'seqLengths']);
  const d = data as SequenceDataset;
  const x = checkAnyTensor(`${name}.x`, d.x);
  const ids = isIntTensor(x);
  if (x.shape.length !== (ids ? 2 : 3)) {
    throw rangeError(`${name}.x.shape`, ids ? '[N, T] (ids)' : '[N, T, F] (float features)', `[${x.shape.join(', ')}]`);
  }
  const [N, T] = x.shape;
  const F = ids ? 1 : x.shape[2];
  if (N < 1 || T < 1 || F < 1) throw rangeError(`${name}.x.shape`, 'at least one sequence, step and feature', `[${x.shape.join(', ')}]`);
  const y = checkAnyTensor(`${name}.y`, d.y);
  const yInt = isIntTensor(y);
  let target: TargetKind;
  const ys = y.shape;
  if (yInt && ys.length === 2 && ys[0] === N && ys[1] === T) target = 'classPerStep';
  else if (yInt && ys.length === 1 && ys[0] === N) target = 'classPerSequence';
  else if (!yInt && ys.length === 3 && ys[0] === N && ys[1] === T && ys[2] >= 1) target = 'valuePerStep';
  else if (!yInt && ys.length === 2 && ys[0] === N && ys[1] >= 1) target = 'valuePerSequence';
  else {
    const want = yInt ? `[${N}, ${T}] or [${N}] (class ids for x of shape [${x.shape.join(', ')}])` : `[${N}, ${T}, C] or [${N}, C] (float targets for x of shape [${x.shape.join(', ')}])`;
    throw rangeError(`${name}.y.shape`, want, `[${ys.join(', ')}]`);
  }
  if (d.seqLengths !== undefined) {
    const l: unknown = d.seqLengths;
    if (!(l instanceof Int32Array)) throw typeError(`${name}.seqLengths`, 'an Int32Array', l);
    if (l.length !== N) throw rangeError(`${name}.seqLengths`, `${N} lengths (one per sequence)`, l);
    for (let i = 0; i < N; i++) {
      if (l[i] < 1 || l[i] > T) throw rangeError(`${name}.seqLengths[${i}]`, `a length in 1..${T}`, l[i]);
    }
  }
  const targetWidth = target === 'valuePerStep' ? ys[2] : target === 'valuePerSequence' ? ys[1] : 1;
  return { size: N, steps: T, features: F, ids, target, targetWidth };
}

/** Number of sequences in a dataset (checked). */
export function datasetSize(data: SequenceDataset): number {
  return checkDataset('data', data).size;
}

function checkIndices(name: string, indices: unknown, n: number): Int32Array {
  if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
    throw typeError(name, `an array of indices in 0..${n - 1}`, indices);
  }
  const a = indices as ArrayLike<unknown>;
  if (a.length === 0) throw rangeError(name, 'at least one index', indices);
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) throw rangeError(`${name}[${i}]`, `an index in 0..${n - 1}`, describe(v));
    out[i] = v;
  }
  return out;
}

/** Rows `indices` of an example-major tensor [N, ...] as a new tensor [len, ...]. */
function gatherRows<T extends Tensor | IntTensor>(t: T, indices: Int32Array): T {
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = isIntTensor(t) ? new Int32Array(indices.length * row) : new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i] * row;
    (out as Float32Array).set((t.data as Float32Array).subarray(s, s + row), i * row);
  }
  return { data: out, shape: [indices.length, ...t.shape.slice(1)] } as unknown as T;
}

/**
 * Example-major `[N, T, ...]` rows `indices` → time-major `[steps, B, ...]`,
 * keeping the first `steps` steps.
 *
 * @internal Shared by batchOf and predict.
 */
export function toTimeMajor<T extends Tensor | IntTensor>(t: T, indices: Int32Array, steps: number): T {
  const T0 = t.shape[1];
  const F = t.shape.slice(2).reduce((a, b) => a * b, 1);
  const B = indices.length;
  const out = isIntTensor(t) ? new Int32Array(steps * B * F) : new Float32Array(steps * B * F);
  const src = t.data as Float32Array;
  const dst = out as Float32Array;
  for (let b = 0; b < B; b++) {
    const base = indices[b] * T0 * F;
    // One value per step (ids, scalar series): element copies (a subarray per element cost
    // ~0.3 ms per E1 batch).
    if (F === 1) for (let s = 0; s < steps; s++) dst[s * B + b] = src[base + s];
    else for (let s = 0; s < steps; s++) dst.set(src.subarray(base + s * F, base + (s + 1) * F), (s * B + b) * F);
  }
  return { data: out, shape: [steps, B, ...t.shape.slice(2)] } as unknown as T;
}

/**
 * Gathers examples into a time-major batch. With `seqLengths`, the time axis
 * is cut to the longest selected sequence (steps past it are all padding).
 *
 * @param data - The dataset.
 * @param indices - Which examples, in batch order (at least one).
 * @returns `{ x, y, seqLengths }` time-major (see Batch).
 * @throws TypeError / RangeError for a bad dataset or an index out of range.
 */
export function batchOf(data: SequenceDataset, indices: ArrayLike<number>): Batch {
  const info = checkDataset('data', data);
  return gatherBatch(data, info, checkIndices('indices', indices, info.size));
}

/** @internal batchOf without validation (for the training loop, which validated once). */
export function gatherBatch(data: SequenceDataset, info: DatasetInfo, idx: Int32Array): Batch {
  let lengths: Int32Array | null = null;
  let steps = info.steps;
  if (data.seqLengths) {
    lengths = new Int32Array(idx.length);
    let max = 1;
    for (let i = 0; i < idx.length; i++) {
      lengths[i] = data.seqLengths[idx[i]];
      if (lengths[i] > max) max = lengths[i];
    }
    steps = max;
    if (lengths.every((l) => l === steps)) lengths = null;
  }
  const x = toTimeMajor(data.x, idx, steps);
  const perStep = info.target === 'classPerStep' || info.target === 'valuePerStep';
  const y = perStep ? toTimeMajor(data.y, idx, steps) : gatherRows(data.y, idx);
  return { x, y, seqLengths: lengths };
}

/**
 * The examples `indices` as a new example-major dataset (data copied).
 *
 * @param data - The dataset.
 * @param indices - Which examples, in order (at least one).
 * @returns The subset.
 */
export function subset(data: SequenceDataset, indices: ArrayLike<number>): SequenceDataset {
  const info = checkDataset('data', data);
  const idx = checkIndices('indices', indices, info.size);
  const out: { x: Tensor | IntTensor; y: Tensor | IntTensor; seqLengths?: Int32Array } = { x: gatherRows(data.x, idx), y: gatherRows(data.y, idx) };
  if (data.seqLengths) out.seqLengths = Int32Array.from(idx, (i) => (data.seqLengths as Int32Array)[i]);
  return out;
}

/**
 * Splits a dataset in time order: the first `fraction` of the examples (rounded)
 * for training, the rest for validation. No shuffling: for series, later
 * windows must not leak into training.
 *
 * @param data - The dataset (examples in chronological order).
 * @param fraction - Share of examples for training, in (0, 1); both parts must be non-empty.
 * @returns `{ train, validation }`.
 * @throws RangeError if a part would be empty.
 */
export function chronologicalSplit(data: SequenceDataset, fraction: number): { train: SequenceDataset; validation: SequenceDataset } {
  const info = checkDataset('data', data);
  const f = checkNumber('fraction', fraction, 0, 1);
  const n = Math.round(info.size * f);
  if (n < 1 || n >= info.size) {
    throw rangeError('fraction', `a fraction leaving both parts of the ${info.size} examples non-empty`, `${f} (${n} for training)`);
  }
  const all = Array.from({ length: info.size }, (_, i) => i);
  return { train: subset(data, all.slice(0, n)), validation: subset(data, all.slice(n)) };
}

/**
 * A seeded permutation of 0..n-1 (Fisher-Yates with rnnblas' Rng): the same
 * seed (or generator state) always gives the same order.
 *
 * @param n - Number of items (>= 0).
 * @param rng - A seed or a generator (advanced by n-1 draws).
 * @returns The permutation.
 */
export function shuffledIndices(n: number, rng: Rng | number): number[] {
  checkInt('n', n, 0);
  const g = toRng('rng', rng);
  return g.shuffle(Array.from({ length: n }, (_, i) => i));
}

/**
 * The dataset with its examples in a seeded random order (data copied).
 *
 * @param data - The dataset.
 * @param rng - A seed or a generator.
 * @returns The shuffled dataset.
 */
export function shuffleDataset(data: SequenceDataset, rng: Rng | number): SequenceDataset {
  const info = checkDataset('data', data);
  return subset(data, shuffledIndices(info.size, toRng('rng', rng)));
}

/** Options of {@link batchIndices}. */
export interface BatchIndicesOptions {
  /** Examples per batch (the last batch may be smaller). */
  batchSize: number;
  /** Shuffle before batching (default false). */
  shuffle?: boolean;
  /** Seed or generator for shuffling (required when shuffle is true). */
  rng?: Rng | number;
}

/**
 * Splits 0..n-1 into batches of example indices (the last one may be smaller).
 *
 * @param n - Number of examples (>= 1).
 * @param options - `batchSize`, `shuffle`, `rng`.
 * @returns The index lists, in order.
 */
export function batchIndices(n: number, options: BatchIndicesOptions): Int32Array[] {
  checkInt('n', n, 1);
  if (options === undefined) throw typeError('options', 'an options object with batchSize', options);
  const o = checkOptions<BatchIndicesOptions>('options', options, ['batchSize', 'shuffle', 'rng']);
  const bs = checkInt('options.batchSize', o.batchSize, 1);
  const shuffle = checkBool('options.shuffle', o.shuffle ?? false);
  if (shuffle && o.rng === undefined) throw rangeError('options.rng', 'a seed or an Rng when shuffle is true', 'undefined');
  const order = shuffle ? shuffledIndices(n, toRng('options.rng', o.rng)) : Array.from({ length: n }, (_, i) => i);
  return splitBatches(order, bs);
}

/** @internal Consecutive slices of `order` of `size` (the last may be smaller). */
export function splitBatches(order: readonly number[], size: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += size) out.push(Int32Array.from(order.slice(i, i + size)));
  return out;
}

/** @internal A seed or a generator → a generator. */
export function toRng(name: string, rng: unknown): Rng {
  if (rng instanceof Rng) return rng;
  if (typeof rng === 'number') return new Rng(checkInt(name, rng, 0, 2 ** 53));
  throw typeError(name, 'a seed (integer) or an Rng', rng);
}
