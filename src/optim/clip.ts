/**
 * Gradient clipping: `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
 */
import { rangeError, typeError } from '../errors.js';
import { native } from '../native/binding.js';
import type { Parameter } from '../tensor.js';
import { checkNumber } from '../validate.js';
import { checkParameters } from './optimizer.js';

function checkNonNegative(name: string, value: unknown, allowInfinity: boolean): number {
  if (typeof value !== 'number') throw typeError(name, 'a number >= 0', value);
  if (Number.isNaN(value) || value < 0 || (!allowInfinity && value === Infinity)) {
    throw rangeError(name, allowInfinity ? 'a number >= 0 (Infinity allowed)' : 'a finite number >= 0', value);
  }
  return value;
}

/**
 * Rescales all gradients together so that their joint norm is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: the total norm is the `normType`-norm of all gradient
 * elements of all parameters (`Infinity`: the largest absolute value), and every gradient is
 * multiplied by `min(1, maxNorm / (total + 1e-6))`.
 *
 * The norm is accumulated in float64. If the total norm is NaN or infinite the gradients are
 * left unchanged (PyTorch would multiply them by 0 or NaN) and the value is returned, so the
 * caller can detect it and skip the step.
 *
 * @param params - Parameters whose `grad` is clipped in place (an empty list returns 0).
 * @param maxNorm - Largest allowed norm (>= 0; `Infinity` only measures).
 * @param normType - Order of the norm: a finite number > 0, or `Infinity` (default 2).
 * @returns The total norm before clipping.
 * @throws TypeError / RangeError for bad arguments.
 */
export function clipGradNorm(params: readonly Parameter[], maxNorm: number, normType = 2): number {
  const ps = checkParameters('params', params, true);
  checkNonNegative('maxNorm', maxNorm, true);
  if (typeof normType !== 'number') throw typeError('normType', 'a number > 0 or Infinity', normType);
  if (!(normType > 0)) throw rangeError('normType', 'a number > 0 or Infinity', normType);

  let total: number;
  if (normType === Infinity) {
    let mx = 0;
    for (const p of ps) {
      const g = p.grad;
      for (let j = 0; j < g.length; j++) {
        const a = Math.abs(g[j]);
        if (a > mx || a !== a) mx = a; // once NaN, mx stays NaN
      }
    }
    total = mx;
  } else if (normType === 2) {
    // Natively, per parameter: s = s + (its squares in float64 as eight partial sums, lane
    // j % 8, combined pairwise, then the rest in order; native/optim.h).
    let s = 0;
    for (const p of ps) {
      s = native.addSquares({ g: p.grad, s0: s });
      if (s !== s) break; // NaN stays NaN (and the native call takes no NaN)
    }
    total = Math.sqrt(s);
  } else if (normType === 1) {
    let s = 0;
    for (const p of ps) {
      const g = p.grad;
      for (let j = 0; j < g.length; j++) s += Math.abs(g[j]);
    }
    total = s;
  } else {
    // Scale by the largest magnitude so |g|^p cannot overflow for large p.
    let mx = 0;
    for (const p of ps) {
      const g = p.grad;
      for (let j = 0; j < g.length; j++) {
        const a = Math.abs(g[j]);
        if (a > mx || a !== a) mx = a;
      }
    }
    if (mx === 0 || !Number.isFinite(mx)) {
      total = mx;
    } else {
      let s = 0;
      for (const p of ps) {
        const g = p.grad;
        for (let j = 0; j < g.length; j++) s += (Math.abs(g[j]) / mx) ** normType;
      }
      total = mx * s ** (1 / normType);
    }
  }
  if (!Number.isFinite(total)) return total;
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    // Natively: g[j] = g[j] * coef (float64 product, float32 store), as the loop it replaces.
    for (const p of ps) native.scaleInPlace({ g: p.grad, coef });
  }
  return total;
}

/**
 * Clamps every gradient element to `[-value, value]` in place, as
 * `torch.nn.utils.clip_grad_value_` (NaN stays NaN).
 * @param params - Parameters whose `grad` is clipped (may be empty).
 * @param value - The bound (a finite number >= 0).
 * @throws TypeError / RangeError for bad arguments.
 */
export function clipGradValue(params: readonly Parameter[], value: number): void {
  const ps = checkParameters('params', params, true);
  const v = checkNumber('value', value, 0);
  const lo = -v;
  for (const p of ps) {
    const g = p.grad;
    for (let j = 0; j < g.length; j++) {
      const x = g[j];
      if (x > v) g[j] = v;
      else if (x < lo) g[j] = lo;
    }
  }
}
