/**
 * Truncated backpropagation through time: a batch's time axis is cut into
 * chunks of k steps; each chunk is a forward, a backward and an optimizer
 * step, and the recurrent state flows forward from chunk to chunk (as data,
 * so no gradient crosses a boundary).
 */
import { rangeError } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkInt } from '../validate.js';

/** One chunk of the time axis: steps `start` (inclusive) to `end` (exclusive). */
export interface TimeChunk {
  /** First step. */
  readonly start: number;
  /** One past the last step. */
  readonly end: number;
}

/**
 * The chunks TBPTT with chunk length k uses for a sequence of `steps` steps:
 * `[0,k), [k,2k), ...`, the last one shorter when k does not divide steps.
 *
 * @param steps - Sequence length (>= 1).
 * @param k - Chunk length (>= 1).
 * @returns The chunks, in order (`ceil(steps / k)` of them).
 */
export function tbpttChunks(steps: number, k: number): TimeChunk[] {
  checkInt('steps', steps, 1);
  checkInt('k', k, 1);
  const out: TimeChunk[] = [];
  for (let s = 0; s < steps; s += k) out.push({ start: s, end: Math.min(s + k, steps) });
  return out;
}

/**
 * Steps `start..end` of a time-major tensor `[T, B, ...]` (a view: time-major
 * chunks are contiguous, so nothing is copied).
 */
export function sliceTime<T extends Tensor | IntTensor>(t: T, start: number, end: number): T {
  const T0 = t.shape[0];
  if (!(start >= 0 && start < end && end <= T0)) throw rangeError('chunk', `steps within 0..${T0}`, `${start}..${end}`);
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: t.data.subarray(start * row, end * row), shape: [end - start, ...t.shape.slice(1)] } as unknown as T;
}

/**
 * Per-sequence lengths inside a chunk. `valid[b]` counts the chunk's steps
 * that belong to sequence b (0 once it has ended); `rnn` is what the RNN is
 * given (at least 1: an ended sequence runs one step of padding, whose output
 * and state nothing uses), or null when every sequence fills the chunk.
 */
export function chunkLengths(lengths: Int32Array | null, start: number, end: number, B: number): { valid: Int32Array | null; rnn: Int32Array | null } {
  if (!lengths) return { valid: null, rnn: null };
  const n = end - start;
  const valid = new Int32Array(B);
  let full = true;
  for (let b = 0; b < B; b++) {
    valid[b] = Math.max(0, Math.min(n, lengths[b] - start));
    if (valid[b] !== n) full = false;
  }
  if (full) return { valid: null, rnn: null };
  return { valid, rnn: Int32Array.from(valid, (v) => Math.max(1, v)) };
}
