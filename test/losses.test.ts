import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crossEntropy, mseLoss } from '../src/nn/losses.js';
import { getNumThreads, setNumThreads } from '../src/index.js';
import { type Tensor, tensor } from '../src/tensor.js';

// Reference values from scripts/fixtures/gen_optim.py: F.cross_entropy / F.mse_loss in
// float64 on float32-representable inputs (see the file's "format" field).
interface CeCase {
  name: string;
  shape: [number, number];
  logits: number[];
  targets: number[];
  ignoreIndex: number;
  reduction: 'mean' | 'sum';
  mask?: number[];
  loss: number;
  grad: number[];
}
interface MseCase {
  name: string;
  shape: number[];
  pred: number[];
  target: number[];
  reduction: 'mean' | 'sum';
  mask?: number[];
  loss: number;
  grad: number[];
}
const FX = JSON.parse(readFileSync(new URL('./fixtures/optim/losses.json', import.meta.url), 'utf8')) as { crossEntropy: CeCase[]; mse: MseCase[] };

// The loss is float64 on both sides from the same float32 inputs; only the order of the
// operations differs (PyTorch: log_softmax then nll), which moves it by a few ulps. 1e-12
// relative leaves ~1000x headroom over rounding while any mistake shows at 1e-3 or worse.
const LOSS_TOL = 1e-12;
// Our gradient is computed in float64 and returned as float32: rounding it costs at most
// 2^-24 ≈ 6e-8 relative. 1.2e-7 relative (2 float32 half-ulps) plus 1e-12 absolute (for
// entries that are ~0 after the softmax − one-hot cancellation) bounds that.
const GRAD_RTOL = 1.2e-7;
const GRAD_ATOL = 1e-12;

function expectGradClose(actual: Float32Array, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    const err = Math.abs(actual[j] - expected[j]);
    if (!(err <= GRAD_RTOL * Math.abs(expected[j]) + GRAD_ATOL)) {
      throw new Error(`${what}: grad[${j}] = ${actual[j]}, torch ${expected[j]}`);
    }
  }
}

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('crossEntropy against torch F.cross_entropy (float64)', () => {
  for (const c of FX.crossEntropy) {
    it(`${c.name}: loss and d loss / d logits`, () => {
      const logits = tensor(c.logits, c.shape);
      const { loss, grad } = crossEntropy(logits, c.targets, {
        ignoreIndex: c.ignoreIndex,
        reduction: c.reduction,
        ...(c.mask ? { mask: Uint8Array.from(c.mask) } : {}),
      });
      expect(Number.isFinite(loss)).toBe(true);
      expect(relErr(loss, c.loss)).toBeLessThanOrEqual(LOSS_TOL);
      expect(grad.shape).toEqual(c.shape);
      expectGradClose(grad.data, c.grad, c.name);
    });
  }

  it('accepts Int32Array targets and gives the same result as a plain array', () => {
    const c = FX.crossEntropy[0];
    const a = crossEntropy(tensor(c.logits, c.shape), c.targets);
    const b = crossEntropy(tensor(c.logits, c.shape), Int32Array.from(c.targets));
    expect(b.loss).toBe(a.loss);
    expect(b.grad.data).toEqual(a.grad.data);
  });
});

describe('mseLoss against torch F.mse_loss (float64)', () => {
  for (const c of FX.mse) {
    it(`${c.name}: loss and d loss / d pred`, () => {
      const { loss, grad } = mseLoss(tensor(c.pred, c.shape), tensor(c.target, c.shape), {
        reduction: c.reduction,
        ...(c.mask ? { mask: Uint8Array.from(c.mask) } : {}),
      });
      expect(relErr(loss, c.loss)).toBeLessThanOrEqual(LOSS_TOL);
      expect(grad.shape).toEqual(c.shape);
      expectGradClose(grad.data, c.grad, c.name);
    });
  }
});

describe('hand-computed values', () => {
  it('crossEntropy of uniform logits is log(C); gradient is (1/C − onehot)/N', () => {
    const { loss, grad } = crossEntropy(tensor([0, 0, 0, 0, 5, 5, 5, 5], [2, 4]), [1, 3]);
    expect(loss).toBeCloseTo(Math.log(4), 15);
    expect(Array.from(grad.data)).toEqual([0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]);
  });

  it('mseLoss: sum of squares, 2·(p − t) / count', () => {
    const { loss, grad } = mseLoss(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 0, 3, 2], [2, 2]));
    expect(loss).toBe((1 + 4 + 0 + 4) / 4);
    expect(Array.from(grad.data)).toEqual([0.5, 1, 0, 1]);
    const s = mseLoss(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 0, 3, 2], [2, 2]), { reduction: 'sum' });
    expect(s.loss).toBe(9);
    expect(Array.from(s.grad.data)).toEqual([2, 4, 0, 4]);
  });
});

describe('finite-difference checks of the gradients', () => {
  // Steps of h = 2^-10 are exact in float32 for |x| < 2^13, so the perturbed inputs are
  // exactly x ± h. Central differences of the float64 loss: truncation error ~h²·|f'''|/6
  // ~ 1e-7, cancellation ~1e-16·|f|/h ~ 1e-13, plus the float32 rounding of our gradient
  // (~6e-8 relative); 2e-6 absolute is well above these and far below a wrong gradient.
  const H = 2 ** -10;
  const FD_TOL = 2e-6;

  function fdCheck(x: Tensor, f: (t: Tensor) => number, g: Float32Array): void {
    for (let i = 0; i < x.data.length; i++) {
      const plus = Float32Array.from(x.data);
      const minus = Float32Array.from(x.data);
      plus[i] += H;
      minus[i] -= H;
      const fd = (f({ data: plus, shape: x.shape }) - f({ data: minus, shape: x.shape })) / (2 * H);
      expect(Math.abs(fd - g[i]), `element ${i}: fd ${fd} vs ${g[i]}`).toBeLessThanOrEqual(FD_TOL);
    }
  }

  for (const c of FX.crossEntropy.filter((c) => c.name !== 'ce_large_logits')) {
    it(`crossEntropy ${c.name}`, () => {
      const opts = { ignoreIndex: c.ignoreIndex, reduction: c.reduction, ...(c.mask ? { mask: Uint8Array.from(c.mask) } : {}) };
      const x = tensor(c.logits, c.shape);
      fdCheck(x, (t) => crossEntropy(t, c.targets, opts).loss, crossEntropy(x, c.targets, opts).grad.data);
    });
  }

  for (const c of FX.mse) {
    it(`mseLoss ${c.name}`, () => {
      const opts = { reduction: c.reduction, ...(c.mask ? { mask: Uint8Array.from(c.mask) } : {}) };
      const x = tensor(c.pred, c.shape);
      const t = tensor(c.target, c.shape);
      fdCheck(x, (p) => mseLoss(p, t, opts).loss, mseLoss(x, t, opts).grad.data);
    });
  }
});

describe('numerical stability', () => {
  it('logits of ±1e4 give a finite loss and gradient (log-sum-exp with the maximum subtracted)', () => {
    const { loss, grad } = crossEntropy(tensor([1e4, -1e4, -1e4, 1e4, 0, 0], [3, 2]), [1, 1, 0]);
    // Row 0: lse = 1e4, loss 2e4. Row 1: loss ~0 (exp(-2e4) underflows). Row 2: log 2.
    expect(loss).toBeCloseTo((2e4 + 0 + Math.LN2) / 3, 9);
    expect(grad.data.every(Number.isFinite)).toBe(true);
    expect(Array.from(grad.data)).toEqual([1 / 3, -1 / 3, 0, 0, Math.fround(0.5 / 3) - Math.fround(1 / 3), Math.fround(0.5 / 3)].map(Math.fround));
  });

  it('logits near the float32 limits (±3e38) still give a finite loss', () => {
    const { loss, grad } = crossEntropy(tensor([3e38, -3e38, 1, 2], [2, 2]), [1, 0], { reduction: 'sum' });
    expect(Number.isFinite(loss)).toBe(true);
    expect(relErr(loss, Math.fround(3e38) * 2 + Math.log1p(Math.exp(1)))).toBeLessThan(1e-12);
    expect(grad.data.every(Number.isFinite)).toBe(true);
  });
});

describe('masking', () => {
  const logits = FX.crossEntropy[0].logits;
  const shape = FX.crossEntropy[0].shape;
  const mask = Uint8Array.from([1, 0, 1, 1, 0, 1]);

  it('crossEntropy: masked rows get exactly zero gradient; changing their logits or targets does not change the loss', () => {
    const a = crossEntropy(tensor(logits, shape), [0, 4, 2, 1, 1, 3], { mask });
    const other = Float32Array.from(logits);
    for (let c = 0; c < shape[1]; c++) {
      other[1 * shape[1] + c] = 1e4 * (c + 1);
      other[4 * shape[1] + c] = -7;
    }
    const b = crossEntropy(tensor(other, shape), [0, -5, 2, 1, 1e6, 3], { mask });
    expect(b.loss).toBe(a.loss);
    expect(b.grad.data).toEqual(a.grad.data);
    for (const row of [1, 4]) {
      for (let c = 0; c < shape[1]; c++) expect(Object.is(a.grad.data[row * shape[1] + c], 0)).toBe(true);
    }
    // Mean over the 4 unmasked rows = the same rows alone.
    const keep = [0, 2, 3, 5];
    const alone = crossEntropy(tensor(keep.flatMap((r) => logits.slice(r * 5, r * 5 + 5)), [4, 5]), keep.map((r) => [0, 4, 2, 1, 1, 3][r]));
    expect(relErr(a.loss, alone.loss)).toBeLessThan(1e-15);
  });

  it('mseLoss: masked rows get exactly zero gradient and their values do not change the loss', () => {
    const c = FX.mse[0];
    const m = Uint8Array.from([1, 0, 1, 1, 0, 1]);
    const a = mseLoss(tensor(c.pred, c.shape), tensor(c.target, c.shape), { mask: m });
    const p2 = Float32Array.from(c.pred);
    p2.fill(1e6, 4, 8); // row 1
    p2.fill(NaN, 16, 20); // row 4
    const b = mseLoss(tensor(p2, c.shape), tensor(c.target, c.shape), { mask: m });
    expect(b.loss).toBe(a.loss);
    expect(b.grad.data).toEqual(a.grad.data);
    for (let i = 4; i < 8; i++) expect(Object.is(a.grad.data[i], 0)).toBe(true);
    for (let i = 16; i < 20; i++) expect(Object.is(b.grad.data[i], 0)).toBe(true);
  });

  it('everything masked or ignored: "mean" is NaN with a zero gradient (as PyTorch), "sum" is 0', () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const mean = crossEntropy(x, [-100, 1], { mask: Uint8Array.from([1, 0]) });
    expect(mean.loss).toBeNaN();
    expect(Array.from(mean.grad.data)).toEqual([0, 0, 0, 0]);
    expect(crossEntropy(x, [-100, -100], { reduction: 'sum' }).loss).toBe(0);
    const mse = mseLoss(x, x, { mask: Uint8Array.from([0, 0]) });
    expect(mse.loss).toBeNaN();
    expect(Array.from(mse.grad.data)).toEqual([0, 0, 0, 0]);
  });
});

describe('invalid loss arguments', () => {
  const x = (): Tensor => tensor([0, 1, 2, 3, 4, 5], [2, 3]);
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['logits not a tensor', () => crossEntropy([1, 2] as never, [0]), TypeError, /Expected a Float32Array for logits.data/],
    ['1-D logits', () => crossEntropy(tensor([1, 2, 3], [3]), [0]), RangeError, /Expected shape \[\*, \*\] for logits.shape but received \[3\]/],
    ['targets not array-like', () => crossEntropy(x(), 3 as never), TypeError, /Expected an Int32Array or an array of class indices for targets but received 3/],
    ['targets of the wrong length', () => crossEntropy(x(), [0]), RangeError, /Expected 2 class indices \(one per row of logits\) for targets but received an array of length 1/],
    ['a target >= C', () => crossEntropy(x(), [0, 3]), RangeError, /^Expected a class index in 0\.\.2 \(or ignoreIndex -100\) for targets\[1\] but received 3$/],
    ['a negative target', () => crossEntropy(x(), Int32Array.from([-1, 0])), RangeError, /for targets\[0\] but received -1/],
    ['a fractional target', () => crossEntropy(x(), [0, 1.5]), RangeError, /for targets\[1\] but received 1.5/],
    ['a target that is not a number', () => crossEntropy(x(), ['0', 1] as never), TypeError, /Expected a class index \(a number\) for targets\[0\] but received "0"/],
    ['a fractional ignoreIndex', () => crossEntropy(x(), [0, 1], { ignoreIndex: 0.5 }), RangeError, /for options.ignoreIndex but received 0.5/],
    ["reduction 'none'", () => crossEntropy(x(), [0, 1], { reduction: 'none' as never }), RangeError, /Expected one of 'mean', 'sum' for options.reduction but received "none"/],
    ['reduction not a string', () => crossEntropy(x(), [0, 1], { reduction: 1 as never }), TypeError, /for options.reduction but received 1/],
    ['an unknown option', () => crossEntropy(x(), [0, 1], { ignore_index: 1 } as never), RangeError, /unknown option 'ignore_index'/],
    ['a mask that is not a Uint8Array', () => crossEntropy(x(), [0, 1], { mask: [1, 1] as never }), TypeError, /Expected a Uint8Array for options.mask but received an array of length 2/],
    ['a mask of the wrong length', () => crossEntropy(x(), [0, 1], { mask: new Uint8Array(3) }), RangeError, /Expected 2 entries \(one per row of logits\) for options.mask/],
    ['mse pred not a tensor', () => mseLoss(null as never, x()), TypeError, /for pred but received null/],
    ['mse target of another shape', () => mseLoss(x(), tensor([0, 1, 2, 3, 4, 5], [3, 2])), RangeError, /Expected shape \[2, 3\] for target.shape but received \[3, 2\]/],
    ['mse target with Float64Array data', () => mseLoss(x(), { data: new Float64Array(6), shape: [2, 3] } as never), TypeError, /Expected a Float32Array for target.data/],
    ['mse mask of the wrong length', () => mseLoss(x(), x(), { mask: new Uint8Array(6) }), RangeError, /Expected 2 entries \(one per row of the last axis of shape \[2, 3\]\) for options.mask/],
    ['mse unknown option', () => mseLoss(x(), x(), { weights: 1 } as never), RangeError, /unknown option 'weights'/],
  ];
  for (const [what, f, cls, msg] of cases) {
    it(`rejects ${what}`, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    });
  }
});

describe('large batches (rows split over the thread team)', () => {
  // From 64K elements the rows are shared between threads; each share's sum
  // is added in order. Checked against a plain float64 loop.
  const N = 2000;
  const C = 65;
  const logits = new Float32Array(N * C);
  let s = 7;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 8 - 4;
  for (let i = 0; i < logits.length; i++) logits[i] = next();
  const targets = Int32Array.from({ length: N }, (_, n) => (n % 97 === 0 ? -100 : (n * 31) % C));
  const mask = Uint8Array.from({ length: N }, (_, n) => (n % 13 === 5 ? 0 : 1));

  it('crossEntropy matches a float64 loop over 2000 x 65 logits, with mask and ignored rows', () => {
    const r = crossEntropy({ data: logits, shape: [N, C] }, targets, { mask });
    let total = 0;
    let count = 0;
    const grad = new Float64Array(N * C);
    for (let n = 0; n < N; n++) if (mask[n] && targets[n] !== -100) count++;
    for (let n = 0; n < N; n++) {
      if (!mask[n] || targets[n] === -100) continue;
      const row = logits.subarray(n * C, (n + 1) * C);
      const m = Math.max(...row);
      let z = 0;
      for (const v of row) z += Math.exp(v - m);
      total += m + Math.log(z) - row[targets[n]];
      for (let c = 0; c < C; c++) grad[n * C + c] = (Math.exp(row[c] - m) / z - (c === targets[n] ? 1 : 0)) / count;
    }
    expect(Math.abs(r.loss - total / count)).toBeLessThan(1e-12);
    expect(maxAbsDiff(r.grad.data, grad)).toBeLessThan(1e-9);
  });

  // The softmax's own exp (native/fast_math.h, exp_nonpositive): logits spread over thousands so
  // that x - max reaches past -708 (its clamp) and crosses every range-reduction step, with class
  // counts that leave every remainder of 8; a float64 loop with Math.exp is the reference, and
  // the bits must not depend on the thread count (the rows are split differently).
  for (const C2 of [1, 7, 8, 9, 113, 1000]) {
    it(`crossEntropy over a wide range of logits (C = ${C2}) matches Math.exp, with the same bits on 1 and 2 threads`, () => {
      const N2 = C2 >= 113 ? 600 : 3000;
      const x2 = new Float32Array(N2 * C2);
      let q = 11 + C2;
      const u = () => (q = (q * 1103515245 + 12345) >>> 0) / 2 ** 32;
      for (let i = 0; i < x2.length; i++) {
        const kind = i % 5;
        x2[i] = kind === 0 ? (u() - 0.5) * 3000 : kind === 1 ? (u() - 0.5) * 1e-3 : (u() - 0.5) * 40;
      }
      const t2 = Int32Array.from({ length: N2 }, (_, n) => (n * 37) % C2);
      const before = getNumThreads();
      setNumThreads(1);
      const one = crossEntropy({ data: x2, shape: [N2, C2] }, t2, { reduction: 'sum' });
      setNumThreads(2);
      const two = crossEntropy({ data: x2, shape: [N2, C2] }, t2, { reduction: 'sum' });
      setNumThreads(before);
      expect(Buffer.from(two.grad.data.buffer).equals(Buffer.from(one.grad.data.buffer))).toBe(true);
      let total = 0;
      let worstGrad = 0;
      for (let n = 0; n < N2; n++) {
        const row = x2.subarray(n * C2, (n + 1) * C2);
        let m = -Infinity;
        for (const v of row) m = Math.max(m, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - m);
        total += m + Math.log(z) - row[t2[n]];
        for (let c = 0; c < C2; c++) {
          const g = Math.exp(row[c] - m) / z - (c === t2[n] ? 1 : 0);
          // float32 rounding of the gradient (half an ulp), and 1e-15 for the target's e/z - 1
          // when e/z rounds to 1 (both sides are then float64 noise) and for underflowing values
          worstGrad = Math.max(worstGrad, (Math.abs(one.grad.data[n * C2 + c] - g) - 1e-15) / Math.abs(g));
        }
      }
      // C = 1: every term is 0
      expect(Math.abs(one.loss - total) / Math.max(Math.abs(total), 1)).toBeLessThan(1e-13);
      expect(Math.abs(two.loss - total) / Math.max(Math.abs(total), 1)).toBeLessThan(1e-13);
      expect(worstGrad).toBeLessThan(1.2e-7);
    });
  }

  it('mseLoss matches a float64 loop over 2000 x 65 values, with a mask', () => {
    const target = logits.map((v, i) => v * 0.5 + (i % 7) * 0.1);
    const r = mseLoss({ data: logits, shape: [N, C] }, { data: target, shape: [N, C] }, { mask });
    let total = 0;
    let count = 0;
    for (let n = 0; n < N; n++) if (mask[n]) count += C;
    const grad = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) {
      if (!mask[Math.floor(i / C)]) continue;
      const d = logits[i] - target[i];
      total += d * d;
      grad[i] = (2 * d) / count;
    }
    expect(Math.abs(r.loss - total / count) / (total / count)).toBeLessThan(1e-12);
    expect(maxAbsDiff(r.grad.data, grad)).toBeLessThan(1e-9);
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
