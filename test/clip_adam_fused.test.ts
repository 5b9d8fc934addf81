// fit's step clips and updates Adam/AdamW in one native call (Optimizer.clipNormAndStep,
// native.clipAdamStep): the bits of clipGradNorm followed by step(), in parameters, gradients,
// state and the returned norm; with a NaN or infinite norm and skipNonFinite nothing changes
// (fit throws then, before any update), without it the unscaled update runs as before.
import { afterEach, describe, expect, it } from 'vitest';
import { Adam, AdamW, clipGradNorm, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';
import type { Optimizer } from '../src/optim/optimizer.js';
import type { Parameter } from '../src/tensor.js';
import { makeRng } from './helpers/random.js';

// Sizes around the team split (the elementwise pass splits across parameters) and an empty one.
const SIZES = [7, 1031, 20011, 0, 256, 17001, 33];

function params(seed: number): Parameter[] {
  const rng = makeRng(seed);
  return SIZES.map((n, i) => ({ name: `p${i}`, shape: [n], data: Float32Array.from({ length: n }, () => rng.normal()), grad: new Float32Array(n) }));
}

function copy(ps: Parameter[]): Parameter[] {
  return ps.map((p) => ({ name: p.name, shape: [...p.shape], data: p.data.slice(), grad: p.grad.slice() }));
}

function setGrads(a: Parameter[], b: Parameter[], seed: number, scale: number, special?: number): void {
  const rng = makeRng(seed);
  a.forEach((p, i) => {
    for (let j = 0; j < p.grad.length; j++) p.grad[j] = rng.normal() * scale;
    if (special !== undefined && i === 2) p.grad[5] = special;
    b[i].grad.set(p.grad);
  });
}

type Make = (ps: Parameter[]) => Optimizer;
const OPTIMIZERS: [string, Make][] = [
  ['Adam', (ps) => new Adam(ps, { lr: 1e-2 })],
  ['Adam amsgrad', (ps) => new Adam(ps, { lr: 1e-2, amsgrad: true, betas: [0.8, 0.99] })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 1e-2, weightDecay: 0.1 })],
  ['AdamW amsgrad', (ps) => new AdamW(ps, { lr: 3e-3, amsgrad: true, eps: 1e-6 })],
];

// Bit-equality of two float lists, as one assertion (element-wise toEqual is slow at this size).
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(b.length, what).toBe(a.length);
  for (let j = 0; j < a.length; j++) {
    if (!Object.is(a[j], b[j])) throw new Error(`${what}[${j}]: ${b[j]}, expected ${a[j]}`);
  }
}

function expectSame(a: Parameter[], b: Parameter[], oa: Optimizer, ob: Optimizer, what: string): void {
  a.forEach((p, i) => {
    sameBits(p.data, b[i].data, `${what}: ${p.name}.data`);
    sameBits(p.grad, b[i].grad, `${what}: ${p.name}.grad`);
  });
  const sa = oa.stateDict();
  const sb = ob.stateDict();
  expect(Object.keys(sb.state), `${what}: stepped parameters`).toEqual(Object.keys(sa.state));
  for (const [name, st] of Object.entries(sa.state)) {
    expect(sb.state[name].step, `${what}: ${name} step`).toBe(st.step);
    for (const [k, buf] of Object.entries(st.buffers)) sameBits(buf, sb.state[name].buffers[k], `${what}: ${name}.${k}`);
  }
}

afterEach(() => setNumThreads(2));

describe('clipNormAndStep: clipGradNorm then step() in one native pass', () => {
  for (const threads of [1, 2]) {
    for (const [name, make] of OPTIMIZERS) {
      it(`${name}, ${threads} thread(s): the same bits over steps that clip, do not clip, and measure only`, () => {
        setNumThreads(threads);
        const a = params(1);
        const b = copy(a);
        const oa = make(a);
        const ob = make(b);
        // maxNorm 5 with small and large gradients (clips or not), Infinity (measures only), 0 (scales to 0).
        const plan: [number, number][] = [[5, 0.01], [5, 1], [5, 3], [Infinity, 1], [0, 1], [5, 1e-3], [1, 10]];
        plan.forEach(([maxNorm, scale], k) => {
          setGrads(a, b, 10 + k, scale);
          const want = clipGradNorm(a, maxNorm);
          oa.step();
          const got = ob.clipNormAndStep(maxNorm, true);
          expect(got, `step ${k + 1}: norm`).toBe(want);
          expectSame(a, b, oa, ob, `step ${k + 1}`);
        });
      });
    }
  }

  for (const special of [NaN, Infinity]) {
    it(`a ${special} gradient: skipNonFinite changes nothing (not even a first step's state); without it, the unscaled update`, () => {
      const a = params(2);
      const b = copy(a);
      const oa = new Adam(a, { lr: 1e-2 });
      const ob = new Adam(b, { lr: 1e-2 });
      setGrads(a, b, 3, 1, special);
      const before = b.map((p) => p.data.slice());
      const norm = ob.clipNormAndStep(1, true);
      expect(Number.isNaN(norm) || norm === Infinity).toBe(true);
      b.forEach((p, i) => sameBits(before[i], p.data, `${p.name}.data`));
      b.forEach((p, i) => sameBits(a[i].grad, p.grad, `${p.name}.grad`));
      expect(ob.stateDict().state).toEqual({});
      // checkFinite: false in fit: clipGradNorm leaves the gradients, step() runs on them.
      const want = clipGradNorm(a, 1);
      oa.step();
      expect(Object.is(ob.clipNormAndStep(1, false), want)).toBe(true);
      expectSame(a, b, oa, ob, 'unscaled');
    });
  }

  it('declines (null) where the effective gradient is not the gradient, or step() is overridden', () => {
    const ps = params(3);
    expect(new Adam(ps, { weightDecay: 0.1 }).clipNormAndStep(1, true)).toBeNull();
    expect(new Adam(ps, { maximize: true }).clipNormAndStep(1, true)).toBeNull();
    expect(new AdamW(ps, { maximize: true }).clipNormAndStep(1, true)).toBeNull();
    class Custom extends Adam {
      override step(): void {
        super.step();
      }
    }
    expect(new Custom(ps).clipNormAndStep(1, true)).toBeNull();
    // Tied weights (two parameters over one array) take the two calls, as before.
    const tied = [ps[1], { ...ps[2], name: 'tied', data: ps[1].data, grad: ps[1].grad, shape: ps[1].shape }];
    expect(new Adam(tied).clipNormAndStep(1, true)).toBeNull();
    const halves = [ps[2], { ...ps[4], name: 'inside', data: ps[2].data.subarray(10, 266) }];
    expect(new Adam(halves).clipNormAndStep(1, true)).toBeNull();
    const fresh = params(3);
    ps.forEach((p, i) => sameBits(fresh[i].data, p.data, p.name));
  });

  it('refuses shared memory, mismatched lengths and a bad maxNorm', () => {
    const one = () => ({ p: new Float32Array(4), g: new Float32Array(4), m: new Float32Array(4), v: new Float32Array(4), vmax: null, stepSize: 1e-3, bc2Sqrt: 1 });
    const call = { maxNorm: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, shrink: 1, skipNonFinite: true };
    const a = one();
    const b = one();
    expect(() => native.clipAdamStep({ ...call, params: [a, { ...b, m: a.v }] })).toThrow(/share memory/);
    expect(() => native.clipAdamStep({ ...call, params: [a, { ...b, g: a.g.subarray(1, 3) }] })).toThrow(RangeError);
    expect(() => native.clipAdamStep({ ...call, params: [{ ...a, m: new Float32Array(3) }] })).toThrow(/m has 3 elements, expected 4/);
    expect(() => native.clipAdamStep({ ...call, params: [] })).toThrow(/1\.\.65536/);
    expect(() => native.clipAdamStep({ ...call, maxNorm: NaN, params: [a] })).toThrow(/maxNorm/);
    expect(() => native.clipAdamStep({ ...call, params: [{ ...a, p: new Float64Array(4) as unknown as Float32Array }] })).toThrow(TypeError);
  });
});
