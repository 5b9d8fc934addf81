/**
 * `gradcheck`: checks a hand-written backward pass against central finite differences, for
 * layers built on the functional API (`rnnForward` / `rnnBackward`) or any other code with a
 * scalar loss and an analytic gradient.
 */
import { rangeError, typeError } from '../errors.js';
import { Rng } from '../random.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { checkInt, checkNumber, checkOptions } from '../validate.js';

/** The function under test: a scalar loss of the inputs and its analytic gradient. */
export interface GradcheckFunction {
  /**
   * The scalar loss at the inputs' current values. It must be deterministic (evaluation mode,
   * no dropout, no fresh random numbers) and read the inputs' buffers on every call, since
   * `gradcheck` perturbs them in place. Accumulate in float64 (plain JS numbers) for accuracy.
   */
  loss(): number;
  /**
   * The analytic gradient of `loss()` with respect to every input, under the inputs' names (one
   * value per element, same layout), at the inputs' current values. Called once, before any
   * perturbation. Extra entries are ignored.
   */
  grad(): Record<string, ArrayLike<number>>;
}

/** What to perturb: tensors, parameters or plain float arrays, by name. They are changed in place and restored. */
export type GradcheckInputs = Record<string, Tensor | Float32Array | Float64Array>;

/** Options of {@link gradcheck}. Defaults depend on the inputs' precision. */
export interface GradcheckOptions {
  /**
   * Finite-difference step (default 1e-6 when every input is a Float64Array, as
   * `torch.autograd.gradcheck`; 1e-3 when any input holds float32, whose ulp near 1 is 1.2e-7).
   * For float32 inputs the step actually taken is the difference of the two rounded
   * perturbed values, so rounding the step does not bias the estimate.
   */
  eps?: number;
  /** Absolute tolerance (default 1e-5 for float64 inputs, 1e-3 for float32). */
  atol?: number;
  /**
   * Relative tolerance (default 1e-3 for float64 inputs, 1e-2 for float32). An element passes
   * when |analytic - numeric| ≤ atol + rtol × |numeric|.
   */
  rtol?: number;
  /** Check at most this many elements per input, chosen at random (default: every element). */
  maxElements?: number;
  /** Seed of the choice of elements when `maxElements` applies (default 0). */
  seed?: number;
}

/** One element's comparison. */
export interface GradcheckElement {
  /** Flat (row-major) index into the input. */
  index: number;
  /** The gradient `grad()` returned. */
  analytic: number;
  /** The central-difference estimate (loss(x + h) - loss(x - h)) / 2h. */
  numeric: number;
  /** |analytic - numeric|. */
  error: number;
}

/** The comparison for one input. */
export interface GradcheckTensorReport {
  /** The input's name. */
  name: string;
  /** Elements compared. */
  checked: number;
  /** Largest |analytic - numeric| over the checked elements. */
  maxAbsError: number;
  /** Largest |analytic - numeric| / max(|analytic|, |numeric|) (0 where both are 0). */
  maxRelError: number;
  /** The element furthest outside (or closest to) the tolerance, or null when none was checked. */
  worst: GradcheckElement | null;
  /** Elements outside the tolerance. */
  failures: number;
  /** Whether every checked element is within atol + rtol × |numeric|. */
  ok: boolean;
}

/** What {@link gradcheck} found. */
export interface GradcheckResult {
  /** Whether every checked element of every input is within the tolerance. */
  ok: boolean;
  /** One report per input, in the order of `inputs`. */
  tensors: GradcheckTensorReport[];
  /** The settings used (defaults filled in). */
  settings: { eps: number; atol: number; rtol: number };
  /** How many times `loss()` was called. */
  lossEvaluations: number;
}

/**
 * Compares `fn.grad()` with central finite differences, element by element: for each checked
 * element x_i of each input, numeric_i = (loss(x_i + eps) - loss(x_i - eps)) / (2 eps), the
 * difference taken in float64 (two `loss()` calls per element; every value is restored
 * exactly afterwards). It reports the worst error per input and whether everything passed; it
 * does not throw on a mismatch.
 *
 * @param fn - The loss and its analytic gradient ({@link GradcheckFunction}).
 * @param inputs - The tensors to perturb, by name (the names `grad()` must use).
 * @param options - Step, tolerances and sampling ({@link GradcheckOptions}).
 * @returns The per-input reports and the overall pass flag.
 * @throws TypeError/RangeError for malformed arguments, a missing or mis-sized gradient, a
 *   non-finite loss, a step that vanishes in float32; Error when `loss()` is not deterministic.
 *
 * @example
 * ```ts
 * const w = new Float64Array([0.5, -1, 2]);
 * const fn = {
 *   loss: () => w.reduce((s, v) => s + Math.sin(v), 0),
 *   grad: () => ({ w: w.map(Math.cos) }),
 * };
 * gradcheck(fn, { w }).ok; // true
 * ```
 */
export function gradcheck(fn: GradcheckFunction, inputs: GradcheckInputs, options?: GradcheckOptions): GradcheckResult {
  if (fn === null || typeof fn !== 'object') throw typeError('fn', 'an object { loss(), grad() }', fn);
  if (typeof fn.loss !== 'function') throw typeError('fn.loss', 'a function returning the scalar loss', fn.loss);
  if (typeof fn.grad !== 'function') throw typeError('fn.grad', 'a function returning the gradients by input name', fn.grad);
  const buffers = inputBuffers(inputs);
  const o = checkOptions<GradcheckOptions>('options', options, ['eps', 'atol', 'rtol', 'maxElements', 'seed']);
  const single = buffers.some(([, b]) => b instanceof Float32Array);
  const eps = checkNumber('options.eps', o.eps ?? (single ? 1e-3 : 1e-6), 0);
  if (eps === 0) throw rangeError('options.eps', 'a positive step', eps);
  const atol = checkNumber('options.atol', o.atol ?? (single ? 1e-3 : 1e-5), 0);
  const rtol = checkNumber('options.rtol', o.rtol ?? (single ? 1e-2 : 1e-3), 0);
  const maxElements = o.maxElements === undefined ? Infinity : checkInt('options.maxElements', o.maxElements, 1);
  const rng = new Rng(o.seed === undefined ? 0 : checkInt('options.seed', o.seed, 0, 2 ** 53));

  let evaluations = 0;
  const loss = (where: string): number => {
    evaluations++;
    const v = fn.loss();
    if (typeof v !== 'number') throw typeError('fn.loss()', 'a number', v);
    if (!Number.isFinite(v)) throw rangeError('fn.loss()', `a finite loss ${where}`, v);
    return v;
  };

  const grads = fn.grad();
  if (grads === null || typeof grads !== 'object') throw typeError('fn.grad()', 'an object of gradients by input name', grads);
  const analytic = buffers.map(([name, b]) => {
    const g = (grads as Record<string, unknown>)[name];
    const where = `fn.grad()[${JSON.stringify(name)}]`;
    if (g === null || typeof g !== 'object' || typeof (g as { length?: unknown }).length !== 'number') {
      throw typeError(where, `the gradient of input ${JSON.stringify(name)} (${b.length} numbers)`, g);
    }
    const arr = g as ArrayLike<number>;
    if (arr.length !== b.length) throw rangeError(where, `${b.length} values (one per element of the input)`, `${arr.length} values`);
    return Float64Array.from(arr);
  });

  const base = loss('at the given inputs');
  const again = loss('at the given inputs');
  if (base !== again) {
    throw new Error(`gradcheck: fn.loss() returned ${base} and then ${again} for the same inputs; it must be deterministic (evaluation mode, no dropout)`);
  }

  const tensors = buffers.map(([name, b], k): GradcheckTensorReport => {
    const g = analytic[k];
    const report: GradcheckTensorReport = { name, checked: 0, maxAbsError: 0, maxRelError: 0, worst: null, failures: 0, ok: true };
    let worstRatio = -1;
    for (const i of chosen(b.length, maxElements, rng)) {
      const x = b[i];
      b[i] = x + eps;
      const xp = b[i];
      const lp = loss(`with ${name}[${i}] + eps`);
      b[i] = x - eps;
      const xm = b[i];
      const lm = loss(`with ${name}[${i}] - eps`);
      b[i] = x;
      const h = xp - xm;
      if (!(h > 0)) throw rangeError('options.eps', `a step that changes ${name}[${i}] = ${x} in its precision`, eps);
      const numeric = (lp - lm) / h;
      const a = g[i];
      const error = Math.abs(a - numeric);
      const scale = Math.max(Math.abs(a), Math.abs(numeric));
      const rel = scale === 0 ? 0 : error / scale;
      const tol = atol + rtol * Math.abs(numeric);
      const ratio = tol === 0 ? (error === 0 ? 0 : Infinity) : error / tol;
      report.checked++;
      report.maxAbsError = Math.max(report.maxAbsError, error);
      report.maxRelError = Math.max(report.maxRelError, rel);
      if (!(error <= tol)) report.failures++;
      if (ratio > worstRatio || Number.isNaN(error)) {
        worstRatio = Number.isNaN(error) ? Infinity : ratio;
        report.worst = { index: i, analytic: a, numeric, error };
      }
    }
    report.ok = report.failures === 0;
    return report;
  });
  return { ok: tensors.every((t) => t.ok), tensors, settings: { eps, atol, rtol }, lossEvaluations: evaluations };
}

function inputBuffers(inputs: unknown): Array<[string, Float32Array | Float64Array]> {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw typeError('inputs', 'an object of tensors or float arrays by name', inputs);
  }
  const entries = Object.entries(inputs as Record<string, unknown>);
  if (entries.length === 0) throw rangeError('inputs', 'at least one input', 'an empty object');
  const seen = new Set<ArrayBufferLike>();
  return entries.map(([name, v]): [string, Float32Array | Float64Array] => {
    const where = `inputs[${JSON.stringify(name)}]`;
    let b: Float32Array | Float64Array;
    if (v instanceof Float32Array || v instanceof Float64Array) {
      b = v;
    } else {
      const shape = v !== null && typeof v === 'object' ? (v as { shape?: unknown }).shape : undefined;
      if (!Array.isArray(shape)) throw typeError(where, 'a Tensor, a Parameter, a Float32Array or a Float64Array', v);
      b = checkTensor(where, v, shape.map(() => -1)).data;
    }
    // Two inputs over overlapping memory would be perturbed together: refuse the simple case.
    if (b.length > 0 && seen.has(b.buffer) && entries.some(([n, w]) => n !== name && overlaps(b, w))) {
      throw rangeError(where, 'an input that does not share memory with another input', 'a view overlapping another input');
    }
    seen.add(b.buffer);
    return [name, b];
  });
}

function overlaps(a: Float32Array | Float64Array, other: unknown): boolean {
  const b = other instanceof Float32Array || other instanceof Float64Array ? other : (other as { data?: unknown } | null)?.data;
  if (!(b instanceof Float32Array || b instanceof Float64Array) || b === undefined || b.buffer !== a.buffer || b.length === 0) return false;
  const a0 = a.byteOffset;
  const a1 = a0 + a.byteLength;
  const b0 = b.byteOffset;
  const b1 = b0 + b.byteLength;
  return a0 < b1 && b0 < a1;
}

/** Indices to check: all of 0..n-1, or `max` distinct ones in increasing order. */
function chosen(n: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  // Partial Fisher-Yates: the first `max` entries become a uniform sample.
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(n - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, max).sort((p, q) => p - q);
}
