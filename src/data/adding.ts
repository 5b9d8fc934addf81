/**
 * The adding problem (Hochreiter & Schmidhuber, 1997; the benchmark of Le, Jaitly & Hinton,
 * 2015): a long-range memory task for sequence-to-one regression.
 */
import { rangeError, typeError } from '../errors.js';
import { Rng } from '../random.js';
import { checkInt, checkOptions } from '../validate.js';
import type { SequenceDataset } from './dataset.js';

/** Options of {@link addingProblem}. */
export interface AddingProblemOptions {
  /** Steps per sequence (T >= 2). */
  length: number;
  /** Number of sequences (N >= 1). */
  count: number;
  /** Seed of a fresh generator (default random). Exclusive with rng. */
  seed?: number;
  /**
   * The generator itself, advanced by the draw: successive calls with the same `rng` give a
   * stream of fresh sequences (a training stream). Exclusive with seed.
   */
  rng?: Rng;
}

/**
 * Draws `count` sequences of the adding problem.
 *
 * Each sequence has two input channels per step: channel 0 a signal drawn from U[0, 1),
 * channel 1 a mask that is 0 except at exactly two distinct steps, drawn uniformly among all
 * pairs of steps. The target is the sum of the two signal values the mask marks (in [0, 2)),
 * to be read at the last step. Always predicting 1 has an expected squared error of 1/6 (the
 * variance of a sum of two U[0, 1) values): the baseline a model must beat.
 *
 * The draw order is fixed (for every sequence: its T signal values, then its two marks), so
 * a seed gives the same sequences on every machine.
 *
 * @param options - Length, count and the generator (see AddingProblemOptions).
 * @returns `x` `[N, T, 2]` (signal, mask) and `y` `[N, 1]`, a dataset for `fit` with a model
 *   ending in `LastStep` and a `Linear(H, 1)` head.
 * @throws TypeError / RangeError for bad options.
 */
export function addingProblem(options: AddingProblemOptions): SequenceDataset {
  if (options === undefined) throw typeError('options', 'an options object with length and count', options);
  const o = checkOptions<AddingProblemOptions>('options', options, ['length', 'count', 'seed', 'rng']);
  const T = checkInt('options.length', o.length, 2, 1 << 24);
  const N = checkInt('options.count', o.count, 1, Math.floor(2 ** 31 / (2 * T)));
  if (o.seed !== undefined && o.rng !== undefined) throw rangeError('options', 'seed or rng, not both', 'both');
  if (o.rng !== undefined && !(o.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (or use options.seed)', o.rng);
  const rng = o.rng ?? new Rng(o.seed === undefined ? undefined : checkInt('options.seed', o.seed, 0, 2 ** 53));
  const x = new Float32Array(N * T * 2);
  const y = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    const base = n * T * 2;
    for (let t = 0; t < T; t++) x[base + 2 * t] = rng.uniform();
    const a = rng.int(T);
    let b = rng.int(T - 1);
    if (b >= a) b++; // uniform over the other T - 1 steps
    x[base + 2 * a + 1] = 1;
    x[base + 2 * b + 1] = 1;
    // The sum of the float32 values the model sees.
    y[n] = x[base + 2 * a] + x[base + 2 * b];
  }
  return { x: { data: x, shape: [N, T, 2] }, y: { data: y, shape: [N, 1] } };
}

/** Mean squared error of always predicting 1 on the adding problem: Var(U1 + U2) = 1/6. */
export const ADDING_BASELINE_MSE = 1 / 6;
