import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue } from '../src/optim/index.js';
import type { Parameter } from '../src/tensor.js';

// Reference from scripts/fixtures/gen_optim.py: torch.nn.utils.clip_grad_norm_ /
// clip_grad_value_ on float32 gradients (see the file's "format" field).
interface ClipFixture {
  shapes: Record<string, number[]>;
  grads: Record<string, number[]>;
  normCases: { normType: number | 'inf'; maxNorm: number; totalNorm: number; clipped: Record<string, number[]> }[];
  value: { clipValue: number; clipped: Record<string, number[]> };
}
const FX = JSON.parse(readFileSync(new URL('./fixtures/optim/clip.json', import.meta.url), 'utf8')) as ClipFixture;

// PyTorch computes the norms in float32 (per-tensor norms, then the norm of those) and the
// clip coefficient in float32; we accumulate in float64. Over 21 elements the float32 sums
// are within ~1e-7 relative of the exact value, and each clipped gradient picks up that
// coefficient error plus a float32 rounding: 1e-6 relative covers both with margin, while
// a wrong norm (2-norm vs 1-norm, per-tensor instead of global) is off by far more. The
// 1e-6 added to the norm is below this tolerance here, so the hand-computed tests below
// check the coefficient exactly.
const TOL = 1e-6;

function params(): Parameter[] {
  return Object.entries(FX.shapes).map(([name, shape]) => {
    const g = Float32Array.from(FX.grads[name]);
    return { name, shape, data: new Float32Array(g.length), grad: g };
  });
}

function single(values: number[]): Parameter[] {
  return [{ name: 'w', shape: [values.length], data: new Float32Array(values.length), grad: Float32Array.from(values) }];
}

describe('clipGradNorm against torch.nn.utils.clip_grad_norm_', () => {
  for (const c of FX.normCases) {
    it(`norm ${c.normType}, maxNorm ${c.maxNorm}: total norm and clipped gradients`, () => {
      const ps = params();
      const total = clipGradNorm(ps, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      expect(Math.abs(total - c.totalNorm) / c.totalNorm).toBeLessThanOrEqual(TOL);
      for (const p of ps) {
        const ref = c.clipped[p.name];
        for (let j = 0; j < ref.length; j++) {
          expect(Math.abs(p.grad[j] - ref[j]), `${p.name}[${j}]`).toBeLessThanOrEqual(TOL * Math.abs(ref[j]));
        }
      }
    });
  }
});

describe('clipGradNorm by hand', () => {
  it('2-norm: one global norm over all parameters, coefficient maxNorm/(total + 1e-6)', () => {
    const ps: Parameter[] = [
      { name: 'a', shape: [2], data: new Float32Array(2), grad: new Float32Array([3, 4]) },
      { name: 'b', shape: [1], data: new Float32Array(1), grad: new Float32Array([12]) },
    ];
    expect(clipGradNorm(ps, 6.5)).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expect(Array.from(ps[0].grad)).toEqual([3 * coef, 4 * coef].map(Math.fround));
    expect(Array.from(ps[1].grad)).toEqual([Math.fround(12 * coef)]);
  });

  it('1-norm, inf-norm and 3-norm', () => {
    const g = [3, -4, 12];
    let ps = single(g);
    expect(clipGradNorm(ps, 1.9, 1)).toBe(19);
    expect(Array.from(ps[0].grad)).toEqual(g.map((v) => Math.fround((v * 1.9) / (19 + 1e-6))));
    ps = single(g);
    expect(clipGradNorm(ps, 1, Infinity)).toBe(12);
    expect(Array.from(ps[0].grad)).toEqual(g.map((v) => Math.fround(v / (12 + 1e-6))));
    ps = single(g);
    expect(clipGradNorm(ps, 100, 3)).toBeCloseTo(Math.cbrt(27 + 64 + 1728), 12);
    expect(Array.from(ps[0].grad)).toEqual(g);
  });

  it('leaves gradients bit-identical when the norm is below maxNorm, and returns the norm', () => {
    const ps = params();
    const before = ps.map((p) => Float32Array.from(p.grad));
    const total = clipGradNorm(ps, 1e6);
    expect(total).toBeGreaterThan(0);
    ps.forEach((p, i) => expect(p.grad).toEqual(before[i]));
    expect(clipGradNorm(params(), Infinity)).toBe(total);
  });

  it('a huge norm order does not overflow', () => {
    // (|g|^50 alone would overflow float64 at 1e1500.)
    const [a, b, c] = [1e30, -2e30, 5e29].map(Math.fround);
    const expected = -b * (1 + (a / -b) ** 50 + (c / -b) ** 50) ** (1 / 50);
    const total = clipGradNorm(single([a, b, c]), 1e40, 50);
    expect(Math.abs(total - expected) / expected).toBeLessThan(1e-14);
  });

  it('no parameters: returns 0', () => {
    expect(clipGradNorm([], 1)).toBe(0);
  });

  it('a non-finite total norm is returned as is and the gradients are left alone (PyTorch would scale them by 0 or NaN)', () => {
    let ps = single([1, Infinity, -2]);
    expect(clipGradNorm(ps, 1)).toBe(Infinity);
    expect(Array.from(ps[0].grad)).toEqual([1, Infinity, -2]);
    ps = single([1, NaN, -2]);
    expect(clipGradNorm(ps, 1)).toBeNaN();
    expect(clipGradNorm(ps, 1, Infinity)).toBeNaN();
    expect(clipGradNorm(ps, 1, 1)).toBeNaN();
    expect(clipGradNorm(ps, 1, 3)).toBeNaN();
    expect(Array.from(ps[0].grad)).toEqual([1, NaN, -2]);
  });
});

describe('clipGradValue', () => {
  it('matches torch.nn.utils.clip_grad_value_', () => {
    const ps = params();
    clipGradValue(ps, FX.value.clipValue);
    for (const p of ps) expect(Array.from(p.grad)).toEqual(FX.value.clipped[p.name].map(Math.fround));
  });

  it('clamps element-wise to [-value, value] by hand; NaN stays NaN', () => {
    const ps = single([-2, -0.5, 0.3, 0.7, NaN, -0]);
    clipGradValue(ps, 0.5);
    expect(Array.from(ps[0].grad)).toEqual([-0.5, -0.5, Math.fround(0.3), 0.5, NaN, -0]);
    const z = single([1, -1]);
    clipGradValue(z, 0);
    expect(Array.from(z[0].grad)).toEqual([0, -0]);
  });
});

describe('invalid clipping arguments', () => {
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['params not an array', () => clipGradNorm({} as never, 1), TypeError, /Expected an array of Parameters for params/],
    ['a parameter without grad', () => clipGradNorm([{ name: 'w', shape: [1], data: new Float32Array(1) }] as never, 1), TypeError, /Expected a Float32Array for params\[0\].grad but received undefined/],
    ['a negative maxNorm', () => clipGradNorm(single([1]), -1), RangeError, /Expected a number >= 0 \(Infinity allowed\) for maxNorm but received -1/],
    ['a NaN maxNorm', () => clipGradNorm(single([1]), NaN), RangeError, /for maxNorm but received NaN/],
    ['a string maxNorm', () => clipGradNorm(single([1]), '1' as never), TypeError, /Expected a number >= 0 for maxNorm but received "1"/],
    ['normType 0', () => clipGradNorm(single([1]), 1, 0), RangeError, /Expected a number > 0 or Infinity for normType but received 0/],
    ['a negative normType', () => clipGradNorm(single([1]), 1, -2), RangeError, /for normType but received -2/],
    ['a NaN normType', () => clipGradNorm(single([1]), 1, NaN), RangeError, /for normType but received NaN/],
    ["normType 'inf' (a string)", () => clipGradNorm(single([1]), 1, 'inf' as never), TypeError, /for normType but received "inf"/],
    ['a negative clip value', () => clipGradValue(single([1]), -0.5), RangeError, /Expected a number in \[0, Infinity\] for value but received -0.5/],
    ['an infinite clip value', () => clipGradValue(single([1]), Infinity), RangeError, /for value but received Infinity/],
    ['a clip value that is not a number', () => clipGradValue(single([1]), null as never), TypeError, /Expected a number for value but received null/],
  ];
  for (const [what, f, cls, msg] of cases) {
    it(`rejects ${what}`, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    });
  }
});
