// clipGradNorm's 2-norm and rescale run natively (native.addSquares / scaleInPlace): the bits of
// the TypeScript forms below (the norm in its documented summation order), on values with
// subnormals, huge values, NaN, ±Inf.
import { describe, expect, it } from 'vitest';
import { clipGradNorm } from '../src/index.js';
import type { Parameter } from '../src/tensor.js';
import { makeRng } from './helpers/random.js';

// The native pass's order: per parameter, eight partial float64 sums (lane j % 8), combined
// pairwise, then the n % 8 rest in order, added to the running total.
function squares(g: Float32Array): number {
  const lane = new Float64Array(8);
  const whole = g.length - (g.length % 8);
  for (let j = 0; j < whole; j++) lane[j % 8] += g[j] * g[j];
  let s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (let j = whole; j < g.length; j++) s += g[j] * g[j];
  return s;
}

function jsClip(ps: Parameter[], maxNorm: number): number {
  let s = 0;
  for (const p of ps) s = s + squares(p.grad);
  const total = Math.sqrt(s);
  if (!Number.isFinite(total)) return total;
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const p of ps) for (let j = 0; j < p.grad.length; j++) p.grad[j] = p.grad[j] * coef;
  return total;
}

function params(seed: number, special: number[]): Parameter[] {
  const rng = makeRng(seed);
  return [1, 0, 1000, 37, 65537].map((n, i) => {
    const grad = Float32Array.from({ length: n }, (_, j) => {
      const r = rng.normal();
      return j % 11 === 0 ? r * 1e-41 : j % 13 === 0 ? r * 1e17 : r;
    });
    special.forEach((v, k) => {
      if (n > k * 7) grad[k * 7] = v;
    });
    return { name: `p${i}`, shape: [n], data: new Float32Array(n), grad };
  });
}

describe('clipGradNorm (2-norm) natively', () => {
  const cases: Array<[string, number[], number]> = [
    ['finite, clipping', [], 1],
    ['finite, no clipping', [], 1e30],
    ['NaN', [NaN], 1],
    ['Infinity', [Infinity, -Infinity], 1],
    ['max norm 0', [], 0],
  ];
  for (const [label, special, maxNorm] of cases) {
    it(`${label}: the TypeScript loop's norm and gradients, bit for bit`, () => {
      const a = params(3, special), b = params(3, special);
      const na = clipGradNorm(a, maxNorm);
      const nb = jsClip(b, maxNorm);
      expect(Object.is(na, nb)).toBe(true);
      a.forEach((p, i) => expect(Array.from(p.grad)).toEqual(Array.from(b[i].grad)));
    });
  }
});
