/**
 * Dataset builders: next-character prediction over a text, sliding windows
 * over a time series, and padding of variable-length sequences.
 */
import { describe, rangeError, typeError } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';
import type { SequenceDataset } from './dataset.js';
import type { CharVocab } from './vocab.js';

/** Options of {@link charDataset}. */
export interface CharDatasetOptions {
  /** Steps per example (T). */
  seqLen: number;
  /** Characters between the starts of consecutive examples (default seqLen: no overlap). */
  stride?: number;
}

/**
 * Next-character examples over a text: example i reads the ids of
 * `text[s .. s+seqLen)` and its targets are `text[s+1 .. s+seqLen+1)`, with
 * `s = i * stride`. Only complete windows are kept.
 *
 * @param text - The text (every character must be in `vocab`).
 * @param vocab - The vocabulary (e.g. `charVocab(text)`).
 * @param options - `seqLen`, `stride`.
 * @returns `x` ids `[N, seqLen]`, `y` ids `[N, seqLen]`.
 * @throws RangeError if the text is shorter than seqLen + 1 characters.
 */
export function charDataset(text: string, vocab: CharVocab, options: CharDatasetOptions): SequenceDataset {
  if (typeof text !== 'string') throw typeError('text', 'a string', text);
  if (vocab === null || typeof vocab !== 'object' || typeof (vocab as CharVocab).encode !== 'function') {
    throw typeError('vocab', 'a CharVocab (from charVocab)', vocab);
  }
  if (options === undefined) throw typeError('options', 'an options object with seqLen', options);
  const o = checkOptions<CharDatasetOptions>('options', options, ['seqLen', 'stride']);
  const T = checkInt('options.seqLen', o.seqLen, 1);
  const stride = checkInt('options.stride', o.stride ?? T, 1);
  const ids = vocab.encode(text);
  if (ids.length < T + 1) throw rangeError('text', `at least seqLen + 1 = ${T + 1} characters`, `${ids.length} characters`);
  const N = Math.floor((ids.length - T - 1) / stride) + 1;
  const x = new Int32Array(N * T);
  const y = new Int32Array(N * T);
  for (let i = 0; i < N; i++) {
    const s = i * stride;
    x.set(ids.subarray(s, s + T), i * T);
    y.set(ids.subarray(s + 1, s + T + 1), i * T);
  }
  const xs: IntTensor = { data: x, shape: [N, T] };
  const ys: IntTensor = { data: y, shape: [N, T] };
  return { x: xs, y: ys };
}

/** Options of {@link slidingWindows}. */
export interface SlidingWindowsOptions {
  /** Steps per input window (T). */
  window: number;
  /** How far ahead the targets are (default 1). */
  horizon?: number;
  /**
   * 'last' (default): seq-to-one, the `horizon` values after each window, `y` `[N, horizon * Ft]`.
   * 'sequence': seq-to-seq, each step's value `horizon` steps later, `y` `[N, window, Ft]`.
   */
  target?: 'last' | 'sequence';
  /** Steps between the starts of consecutive windows (default 1). */
  stride?: number;
  /** Which feature columns are predicted (default all; Ft is their count). */
  targetFeatures?: readonly number[];
}

/** A series: one value per step, or a `[len, F]` matrix (a Tensor or rows of numbers). */
export type Series = Float32Array | readonly number[] | readonly (readonly number[])[] | Tensor;

function seriesMatrix(series: unknown): { data: Float32Array; len: number; F: number } {
  if (series instanceof Float32Array) return { data: series, len: series.length, F: 1 };
  if (Array.isArray(series)) {
    if (series.length > 0 && Array.isArray(series[0])) {
      const F = (series[0] as unknown[]).length;
      if (F < 1) throw rangeError('series[0]', 'a row of at least one number', series[0]);
      const data = new Float32Array(series.length * F);
      series.forEach((row: unknown, i) => {
        if (!Array.isArray(row)) throw typeError(`series[${i}]`, `a row of ${F} numbers`, row);
        if (row.length !== F) throw rangeError(`series[${i}]`, `${F} numbers (as series[0])`, row);
        row.forEach((v: unknown, j) => (data[i * F + j] = checkNumber(`series[${i}][${j}]`, v)));
      });
      return { data, len: series.length, F };
    }
    const data = new Float32Array(series.length);
    series.forEach((v: unknown, i) => (data[i] = checkNumber(`series[${i}]`, v)));
    return { data, len: series.length, F: 1 };
  }
  if (series !== null && typeof series === 'object' && (series as Tensor).data instanceof Float32Array && Array.isArray((series as Tensor).shape)) {
    const t = series as Tensor;
    if (t.shape.length === 1 && t.data.length === t.shape[0]) return { data: t.data, len: t.shape[0], F: 1 };
    if (t.shape.length === 2 && t.data.length === t.shape[0] * t.shape[1] && t.shape[1] >= 1) return { data: t.data, len: t.shape[0], F: t.shape[1] };
    throw rangeError('series.shape', '[len] or [len, F] matching data', `[${t.shape.join(', ')}]`);
  }
  throw typeError('series', 'a Float32Array, an array of numbers, an array of rows, or a Tensor [len, F]', series);
}

/**
 * Windows over a series for forecasting.
 *
 * Window i starts at `s = i * stride` and `x[i]` is rows `s .. s+window` (`[N, window, F]`).
 * With target 'last', `y[i]` is rows `s+window .. s+window+horizon` of the target features,
 * flattened `[N, horizon * Ft]`; with 'sequence', `y[i]` is rows `s+horizon .. s+horizon+window`,
 * `[N, window, Ft]`. Only complete windows are kept.
 *
 * @param series - The values, one per step (F = 1) or `[len, F]`.
 * @param options - `window`, `horizon`, `target`, `stride`, `targetFeatures`.
 * @returns The dataset.
 * @throws RangeError if the series is too short for one window.
 */
export function slidingWindows(series: Series, options: SlidingWindowsOptions): SequenceDataset {
  const { data, len, F } = seriesMatrix(series);
  if (options === undefined) throw typeError('options', 'an options object with window', options);
  const o = checkOptions<SlidingWindowsOptions>('options', options, ['window', 'horizon', 'target', 'stride', 'targetFeatures']);
  const W = checkInt('options.window', o.window, 1);
  const horizon = checkInt('options.horizon', o.horizon ?? 1, 1);
  const target = checkOneOf('options.target', o.target ?? 'last', ['last', 'sequence'] as const);
  const stride = checkInt('options.stride', o.stride ?? 1, 1);
  let cols: number[];
  if (o.targetFeatures === undefined) cols = Array.from({ length: F }, (_, j) => j);
  else {
    if (!Array.isArray(o.targetFeatures) || o.targetFeatures.length === 0) throw typeError('options.targetFeatures', `a non-empty array of feature indices in 0..${F - 1}`, o.targetFeatures);
    cols = o.targetFeatures.map((c: unknown, i) => checkInt(`options.targetFeatures[${i}]`, c, 0, F - 1));
  }
  const Ft = cols.length;
  const need = W + horizon;
  if (len < need) throw rangeError('series', `at least window + horizon = ${need} steps`, `${len} steps`);
  const N = Math.floor((len - need) / stride) + 1;
  const x = new Float32Array(N * W * F);
  for (let i = 0; i < N; i++) x.set(data.subarray(i * stride * F, (i * stride + W) * F), i * W * F);
  const rows = target === 'last' ? horizon : W;
  const y = new Float32Array(N * rows * Ft);
  for (let i = 0; i < N; i++) {
    const first = i * stride + (target === 'last' ? W : horizon);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < Ft; c++) y[(i * rows + r) * Ft + c] = data[(first + r) * F + cols[c]];
    }
  }
  const xs: Tensor = { data: x, shape: [N, W, F] };
  const ys: Tensor = target === 'last' ? { data: y, shape: [N, horizon * Ft] } : { data: y, shape: [N, W, Ft] };
  return { x: xs, y: ys };
}

/** Padded sequences with their lengths. */
export interface Padded<T> {
  /** The sequences, padded to the longest: `[N, Tmax, F]` (or `[N, Tmax]` ids). */
  readonly x: T;
  /** Each sequence's length. */
  readonly seqLengths: Int32Array;
}

function checkSeqList(seqs: unknown): ArrayLike<number>[] {
  if (!Array.isArray(seqs)) throw typeError('seqs', 'an array of sequences', seqs);
  if (seqs.length === 0) throw rangeError('seqs', 'at least one sequence', seqs);
  seqs.forEach((s: unknown, i) => {
    if (!ArrayBuffer.isView(s) && !Array.isArray(s)) throw typeError(`seqs[${i}]`, 'a typed array or an array of numbers', s);
  });
  return seqs as ArrayLike<number>[];
}

/**
 * Pads float sequences of `len_i * F` values (steps of F features, row-major)
 * with `value` to the longest one.
 *
 * @param seqs - The sequences, each at least one step.
 * @param F - Features per step.
 * @param value - The padding value (default 0).
 * @returns `x` `[N, Tmax, F]` and `seqLengths`.
 */
export function padSequences(seqs: ReadonlyArray<Float32Array | readonly number[]>, F: number, value = 0): Padded<Tensor> {
  const list = checkSeqList(seqs);
  checkInt('F', F, 1);
  checkNumber('value', value);
  const lengths = new Int32Array(list.length);
  list.forEach((s, i) => {
    if (s.length === 0 || s.length % F !== 0) throw rangeError(`seqs[${i}]`, `a positive multiple of F = ${F} values`, `${s.length} values`);
    lengths[i] = s.length / F;
  });
  const T = lengths.reduce((a, b) => Math.max(a, b), 0);
  const x = new Float32Array(list.length * T * F).fill(value);
  list.forEach((s, i) => {
    for (let j = 0; j < s.length; j++) {
      const v = s[j];
      if (typeof v !== 'number') throw typeError(`seqs[${i}][${j}]`, 'a number', v);
      x[i * T * F + j] = v;
    }
  });
  return { x: { data: x, shape: [list.length, T, F] }, seqLengths: lengths };
}

/**
 * Pads sequences of ids (or class targets) with `padId` to the longest one.
 *
 * @param seqs - The sequences, each at least one id (integers).
 * @param padId - The padding id (default 0; use -100 for targets to be ignored).
 * @returns `x` ids `[N, Tmax]` and `seqLengths`.
 */
export function padIds(seqs: ReadonlyArray<Int32Array | readonly number[]>, padId = 0): Padded<IntTensor> {
  const list = checkSeqList(seqs);
  checkInt('padId', padId, -(2 ** 31), 2 ** 31 - 1);
  const lengths = Int32Array.from(list, (s, i) => {
    if (s.length === 0) throw rangeError(`seqs[${i}]`, 'at least one id', `${s.length} ids`);
    return s.length;
  });
  const T = lengths.reduce((a, b) => Math.max(a, b), 0);
  const x = new Int32Array(list.length * T).fill(padId);
  list.forEach((s, i) => {
    for (let j = 0; j < s.length; j++) {
      const v = s[j];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw rangeError(`seqs[${i}][${j}]`, 'an integer id', describe(v));
      x[i * T + j] = v;
    }
  });
  return { x: { data: x, shape: [list.length, T] }, seqLengths: lengths };
}
