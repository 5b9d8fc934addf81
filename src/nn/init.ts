/**
 * Weight initialisation with `torch.nn.init`'s names and semantics (camelCase for the
 * two-word names: `xavier_uniform_` is {@link xavierUniform_}). Every function fills a
 * {@link Tensor} or a {@link Parameter} in place and returns it; the random ones draw from
 * rnnblas' seedable generator ({@link Rng}), never from `Math.random` directly:
 *
 * ```ts
 * import { init, RNN, Rng } from 'rnnblas';
 * const rnn = new RNN({ inputSize: 2, hiddenSize: 100, nonlinearity: 'relu', seed: 1 });
 * const rng = new Rng(7);
 * for (const p of rnn.parameters()) {
 *   if (p.name.startsWith('weight_hh')) init.eye_(p);
 *   else if (p.name.startsWith('weight_ih')) init.normal_(p, 0, 0.001, { rng });
 *   else init.zeros_(p);
 * }
 * ```
 *
 * The values are computed in float64 and rounded once to the tensor's float32. The random
 * stream is rnnblas' own (xoshiro128**), so a seed gives the same values on every platform but
 * not the values PyTorch's generator would give; the distributions, bounds and standard
 * deviations are PyTorch's. A tensor with no elements is left as it is (PyTorch does the same,
 * except that its xavier functions divide by zero on a `[0, 0]` tensor).
 */
import { rangeError, typeError } from '../errors.js';
import { Rng } from '../random.js';
import { orthogonalFromNormal } from './orthogonal.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';

/** Where the random initialisers draw from: a generator to advance, or a seed for a fresh one. */
export interface InitRandomOptions {
  /** The generator to draw from (advanced in place; e.g. a module's `generator`). */
  rng?: Rng;
  /** Seed of a fresh generator (default: a random seed, as `new Rng()`). Not together with `rng`. */
  seed?: number;
}

/** The nonlinearities {@link calculateGain} knows: `torch.nn.functional` names. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

const NONLINEARITIES: readonly Nonlinearity[] = [
  'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu',
];

/** Which fan the Kaiming initialisers scale by. */
export type FanMode = 'fan_in' | 'fan_out';

/** Options of {@link kaimingUniform_} and {@link kaimingNormal_} (PyTorch's keyword arguments). */
export interface KaimingOptions extends InitRandomOptions {
  /** Negative slope of the leaky ReLU that follows (used only with `nonlinearity: 'leaky_relu'`; default 0). */
  a?: number;
  /** `'fan_in'` (default) keeps the forward pass's variance, `'fan_out'` the backward pass's. */
  mode?: FanMode;
  /** The nonlinearity that follows (default `'leaky_relu'`, which with `a = 0` is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

/** Fan in and fan out of a weight, as `torch.nn.init._calculate_fan_in_and_fan_out`. */
export interface Fans {
  /** `shape[1]` times the receptive field (the product of `shape[2..]`). */
  fanIn: number;
  /** `shape[0]` times the receptive field. */
  fanOut: number;
}

const RANDOM_KEYS = ['rng', 'seed'] as const;

/**
 * The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`: 1 for the
 * linear and convolution functions and sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leaky_relu (slope = `param`, default 0.01) and 3/4 for selu.
 *
 * @param nonlinearity - A `torch.nn.functional` name (see {@link Nonlinearity}).
 * @param param - leaky_relu's negative slope (ignored by the others).
 * @returns The gain.
 * @throws RangeError for an unknown nonlinearity, TypeError/RangeError for a slope that is not a finite number.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const nl = checkOneOf('nonlinearity', nonlinearity, NONLINEARITIES);
  switch (nl) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'selu':
      return 3 / 4;
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : checkNumber('param', param);
      return Math.sqrt(2 / (1 + slope ** 2));
    }
    default:
      return 1;
  }
}

/**
 * Fan in and fan out of a weight of at least two dimensions, exactly as PyTorch computes
 * them: for a `[out, in, ...kernel]` shape, fanIn = in × ∏kernel and fanOut = out × ∏kernel
 * (so an RNN's `weight_ih` `[H, I]` has fanIn I and fanOut H).
 *
 * @param t - A tensor, a parameter, or anything with a `shape`.
 * @returns `{ fanIn, fanOut }`.
 * @throws RangeError when the shape has fewer than 2 dimensions.
 */
export function calculateFanInAndFanOut(t: { readonly shape: readonly number[] }): Fans {
  if (t === null || typeof t !== 'object') throw typeError('tensor', 'a Tensor or Parameter { data, shape }', t);
  const shape = (t as { shape?: unknown }).shape;
  if (!Array.isArray(shape)) throw typeError('tensor.shape', 'an array of non-negative integers', shape);
  shape.forEach((d, i) => checkInt(`tensor.shape[${i}]`, d, 0));
  return fansOf(shape as number[]);
}

/**
 * Fills with draws from U(a, b), as `torch.nn.init.uniform_`.
 *
 * @param t - The tensor or parameter to fill in place.
 * @param a - Lower bound (default 0).
 * @param b - Upper bound (default 1), at least `a`.
 * @param options - The generator to draw from ({@link InitRandomOptions}).
 * @returns `t`.
 */
export function uniform_<T extends Tensor>(t: T, a = 0, b = 1, options?: InitRandomOptions): T {
  const tt = target(t);
  const lo = checkNumber('a', a);
  const hi = checkNumber('b', b);
  if (lo > hi) throw rangeError('b', `an upper bound of at least a (${lo})`, hi);
  const rng = generator(options);
  fillUniform(tt.data, lo, hi, rng);
  return t;
}

/**
 * Fills with draws from N(mean, std²), as `torch.nn.init.normal_`.
 *
 * @param t - The tensor or parameter to fill in place.
 * @param mean - Mean (default 0).
 * @param std - Standard deviation (default 1), at least 0.
 * @param options - The generator to draw from ({@link InitRandomOptions}).
 * @returns `t`.
 */
export function normal_<T extends Tensor>(t: T, mean = 0, std = 1, options?: InitRandomOptions): T {
  const tt = target(t);
  const m = checkNumber('mean', mean);
  const s = checkNumber('std', std, 0);
  const rng = generator(options);
  fillNormal(tt.data, m, s, rng);
  return t;
}

/**
 * Fills with one value, as `torch.nn.init.constant_`.
 *
 * @param t - The tensor or parameter to fill in place.
 * @param value - The value (any number, NaN and ±Infinity included, as PyTorch's `fill_`).
 * @returns `t`.
 */
export function constant_<T extends Tensor>(t: T, value: number): T {
  const tt = target(t);
  if (typeof value !== 'number') throw typeError('value', 'a number', value);
  tt.data.fill(value);
  return t;
}

/**
 * Fills with zeros, as `torch.nn.init.zeros_`.
 *
 * @param t - The tensor or parameter to fill in place.
 * @returns `t`.
 */
export function zeros_<T extends Tensor>(t: T): T {
  target(t).data.fill(0);
  return t;
}

/**
 * Fills with ones, as `torch.nn.init.ones_`.
 *
 * @param t - The tensor or parameter to fill in place.
 * @returns `t`.
 */
export function ones_<T extends Tensor>(t: T): T {
  target(t).data.fill(1);
  return t;
}

/**
 * Fills a 2-D tensor with the identity, as `torch.nn.init.eye_`: ones on the main diagonal
 * (`t[i][i]` for i < min(rows, cols)), zeros elsewhere, also when it is not square. For an
 * RNN's `weight_hh` this is the IRNN recipe of Le, Jaitly & Hinton (2015).
 *
 * @param t - The 2-D tensor or parameter to fill in place.
 * @returns `t`.
 * @throws RangeError when `t` is not 2-D.
 */
export function eye_<T extends Tensor>(t: T): T {
  const tt = target(t);
  if (tt.shape.length !== 2) throw rangeError('tensor.shape', 'a 2-D shape (eye_ supports only 2 dimensions)', `[${tt.shape.join(', ')}]`);
  const [rows, cols] = tt.shape;
  tt.data.fill(0);
  for (let i = 0; i < Math.min(rows, cols); i++) tt.data[i * cols + i] = 1;
  return t;
}

/**
 * Fills with a (semi-)orthogonal matrix scaled by `gain`, with PyTorch's algorithm (Saxe et
 * al. 2013): the tensor is viewed as `rows = shape[0]` by `cols = numel / rows`; a rows × cols
 * matrix of standard normals is drawn (row-major), transposed when rows < cols, factored as
 * Q R (Householder, in float64), Q's columns are multiplied by sign(diag(R)) (which makes Q
 * Haar-distributed and the result independent of the QR algorithm), Q is transposed back and
 * scaled. Tall results have orthonormal columns, wide ones orthonormal rows.
 * The QR runs in JavaScript, O(rows × cols × min(rows, cols)): milliseconds for a 256 × 256
 * recurrent weight, about a second at 512 × 512 and several at 1024 × 1024.
 *
 * @param t - The tensor or parameter (at least 2-D) to fill in place.
 * @param gain - Scale factor (default 1).
 * @param options - The generator to draw from ({@link InitRandomOptions}).
 * @returns `t`.
 * @throws RangeError when `t` has fewer than 2 dimensions.
 */
export function orthogonal_<T extends Tensor>(t: T, gain = 1, options?: InitRandomOptions): T {
  const tt = target(t);
  if (tt.shape.length < 2) throw rangeError('tensor.shape', 'a shape of at least 2 dimensions (orthogonal_ needs a matrix)', `[${tt.shape.join(', ')}]`);
  const g = checkNumber('gain', gain);
  const rng = generator(options);
  const n = tt.data.length;
  if (n === 0) return t;
  const rows = tt.shape[0];
  const cols = n / rows;
  const normal = new Float64Array(n);
  for (let i = 0; i < n; i++) normal[i] = rng.normal();
  const q = orthogonalFromNormal(normal, rows, cols);
  for (let i = 0; i < n; i++) tt.data[i] = q[i] * g;
  return t;
}

/**
 * Fills with U(-b, b), b = gain × √(6 / (fanIn + fanOut)), as `torch.nn.init.xavier_uniform_`
 * (Glorot & Bengio 2010).
 *
 * @param t - The tensor or parameter (at least 2-D) to fill in place.
 * @param gain - Scale factor (default 1; see {@link calculateGain}).
 * @param options - The generator to draw from ({@link InitRandomOptions}).
 * @returns `t`.
 * @throws RangeError when `t` has fewer than 2 dimensions.
 */
export function xavierUniform_<T extends Tensor>(t: T, gain = 1, options?: InitRandomOptions): T {
  const tt = target(t);
  const { fanIn, fanOut } = fansOf(tt.shape);
  const g = checkNumber('gain', gain);
  const rng = generator(options);
  if (tt.data.length === 0) return t;
  const bound = Math.sqrt(3) * (g * Math.sqrt(2 / (fanIn + fanOut)));
  fillUniform(tt.data, -bound, bound, rng);
  return t;
}

/**
 * Fills with N(0, std²), std = gain × √(2 / (fanIn + fanOut)), as
 * `torch.nn.init.xavier_normal_`.
 *
 * @param t - The tensor or parameter (at least 2-D) to fill in place.
 * @param gain - Scale factor (default 1; see {@link calculateGain}).
 * @param options - The generator to draw from ({@link InitRandomOptions}).
 * @returns `t`.
 * @throws RangeError when `t` has fewer than 2 dimensions.
 */
export function xavierNormal_<T extends Tensor>(t: T, gain = 1, options?: InitRandomOptions): T {
  const tt = target(t);
  const { fanIn, fanOut } = fansOf(tt.shape);
  const g = checkNumber('gain', gain);
  const rng = generator(options);
  if (tt.data.length === 0) return t;
  fillNormal(tt.data, 0, g * Math.sqrt(2 / (fanIn + fanOut)), rng);
  return t;
}

/**
 * Fills with U(-b, b), b = √3 × gain / √fan, as `torch.nn.init.kaiming_uniform_` (He et al.
 * 2015), with gain = calculateGain(nonlinearity, a) and fan = fanIn or fanOut by `mode`.
 * (PyTorch's `nn.Linear` default is `kaimingUniform_(w, { a: Math.sqrt(5) })`.)
 *
 * @param t - The tensor or parameter (at least 2-D) to fill in place.
 * @param options - `a`, `mode`, `nonlinearity` and the generator ({@link KaimingOptions}).
 * @returns `t`.
 * @throws RangeError when `t` has fewer than 2 dimensions.
 */
export function kaimingUniform_<T extends Tensor>(t: T, options?: KaimingOptions): T {
  const tt = target(t);
  const { std, rng } = kaiming(tt, options);
  if (tt.data.length === 0) return t;
  const bound = Math.sqrt(3) * std;
  fillUniform(tt.data, -bound, bound, rng);
  return t;
}

/**
 * Fills with N(0, std²), std = gain / √fan, as `torch.nn.init.kaiming_normal_`, with gain and
 * fan as in {@link kaimingUniform_}.
 *
 * @param t - The tensor or parameter (at least 2-D) to fill in place.
 * @param options - `a`, `mode`, `nonlinearity` and the generator ({@link KaimingOptions}).
 * @returns `t`.
 * @throws RangeError when `t` has fewer than 2 dimensions.
 */
export function kaimingNormal_<T extends Tensor>(t: T, options?: KaimingOptions): T {
  const tt = target(t);
  const { std, rng } = kaiming(tt, options);
  if (tt.data.length === 0) return t;
  fillNormal(tt.data, 0, std, rng);
  return t;
}

function kaiming(t: Tensor, options: KaimingOptions | undefined): { std: number; rng: Rng } {
  const o = checkOptions<KaimingOptions>('options', options, ['a', 'mode', 'nonlinearity', ...RANDOM_KEYS]);
  const { fanIn, fanOut } = fansOf(t.shape);
  const a = checkNumber('options.a', o.a ?? 0);
  const mode = checkOneOf('options.mode', o.mode ?? 'fan_in', ['fan_in', 'fan_out'] as const);
  const nonlinearity = checkOneOf('options.nonlinearity', o.nonlinearity ?? 'leaky_relu', NONLINEARITIES);
  const rng = generator({ rng: o.rng, seed: o.seed });
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  return { std: calculateGain(nonlinearity, a) / Math.sqrt(fan), rng };
}

function fansOf(shape: readonly number[]): Fans {
  if (shape.length < 2) {
    throw rangeError('tensor.shape', 'a shape of at least 2 dimensions (fan in and fan out need them)', `[${shape.join(', ')}]`);
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

function target(t: unknown): Tensor {
  if (t === null || typeof t !== 'object') throw typeError('tensor', 'a Tensor or Parameter { data, shape }', t);
  const shape = (t as { shape?: unknown }).shape;
  if (!Array.isArray(shape)) throw typeError('tensor.shape', 'an array of non-negative integers', shape);
  return checkTensor('tensor', t, shape.map(() => -1));
}

function generator(options: InitRandomOptions | undefined): Rng {
  const o = checkOptions<InitRandomOptions>('options', options, RANDOM_KEYS);
  if (o.rng !== undefined && o.seed !== undefined) throw rangeError('options', 'either rng or seed, not both', 'both');
  if (o.rng !== undefined) {
    if (!(o.rng instanceof Rng)) throw typeError('options.rng', 'an Rng', o.rng);
    return o.rng;
  }
  if (o.seed !== undefined) checkInt('options.seed', o.seed, 0, 2 ** 53);
  return new Rng(o.seed);
}

function fillUniform(data: Float32Array, lo: number, hi: number, rng: Rng): void {
  for (let i = 0; i < data.length; i++) data[i] = rng.range(lo, hi);
}

function fillNormal(data: Float32Array, mean: number, std: number, rng: Rng): void {
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
}
