// The native Adam update (native/optim.cpp) gives exactly the bits of the formula evaluated in
// TypeScript (float32 per operation in torch.optim's order: Math.fround after each one, which
// rounds + - * / and sqrt of float32 operands exactly as float32 arithmetic does), amsgrad and
// AdamW's shrink included, over many steps and gradient magnitudes from 1e-6 to 1e2.
import { describe, expect, it } from 'vitest';
import { native } from '../src/native/binding.js';
import { makeRng } from './helpers/random.js';

const f = Math.fround;

function adamTs(p: Float32Array, d: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | null, b1: number, b2: number, stepSize: number, bc2: number, eps: number, shrink: number): void {
  const [fb1, fc1, fb2, fc2, negStep, fbc2, feps, fshrink] = [b1, 1 - b1, b2, 1 - b2, -stepSize, bc2, eps, shrink].map(f);
  for (let j = 0; j < p.length; j++) {
    const dj = d[j];
    m[j] = f(f(fb1 * m[j]) + f(fc1 * dj));
    v[j] = f(f(fb2 * v[j]) + f(f(fc2 * dj) * dj));
    let vv = v[j];
    if (vmax) {
      const a = vmax[j];
      if (a > vv || a !== a) vv = a;
      vmax[j] = vv;
    }
    const denom = f(f(f(Math.sqrt(vv)) / fbc2) + feps);
    p[j] = f(f(p[j] * fshrink) + f(f(negStep * m[j]) / denom));
  }
}

describe('native Adam step', () => {
  // 20011 elements are split over the thread team (elementwise: the same bits).
  for (const [amsgrad, n] of [[false, 1031], [true, 1031], [false, 20011], [true, 20011]] as const) {
    it(`bit-identical to the TypeScript formula (amsgrad ${amsgrad}, ${n} elements)`, () => {
      const rng = makeRng(amsgrad ? 2 : 1);
      const p1 = Float32Array.from({ length: n }, () => rng.normal());
      const p2 = p1.slice();
      const [m1, v1, m2, v2, x1, x2] = Array.from({ length: 6 }, () => new Float32Array(n));
      for (let t = 1; t <= 40; t++) {
        const d = Float32Array.from({ length: n }, () => rng.normal() * 10 ** (rng.uniform() * 8 - 6));
        const stepSize = 3e-3 / (1 - 0.9 ** t), bc2 = Math.sqrt(1 - 0.999 ** t);
        adamTs(p1, d, m1, v1, amsgrad ? x1 : null, 0.9, 0.999, stepSize, bc2, 1e-8, 0.9999);
        native.adamStep({ p: p2, d, m: m2, v: v2, vmax: amsgrad ? x2 : null, beta1: 0.9, beta2: 0.999, stepSize, bc2Sqrt: bc2, eps: 1e-8, shrink: 0.9999 });
      }
      expect(p2).toEqual(p1);
      expect(m2).toEqual(m1);
      expect(v2).toEqual(v1);
      if (amsgrad) expect(x2).toEqual(x1);
    });
  }
  it('refuses mismatched lengths and aliasing', () => {
    const a = new Float32Array(4), b = new Float32Array(3);
    const call = { p: a, d: new Float32Array(4), m: new Float32Array(4), v: new Float32Array(4), vmax: null, beta1: 0.9, beta2: 0.999, stepSize: 1e-3, bc2Sqrt: 1, eps: 1e-8, shrink: 1 };
    expect(() => native.adamStep({ ...call, m: b })).toThrow(/m has 3 elements, expected 4/);
    expect(() => native.adamStep({ ...call, v: call.p })).toThrow(/shares memory/);
  });
});

// The TypeScript forms of SGD's three updates (float64 per element, float32 stores).
function sgdTs(p: Float32Array, d: Float32Array, buf: Float32Array | null, lr: number, momentum: number, keep: number, nesterov: boolean): void {
  for (let j = 0; j < p.length; j++) {
    if (buf === null) {
      p[j] = p[j] - lr * d[j];
    } else if (nesterov) {
      buf[j] = momentum * buf[j] + d[j];
      p[j] = p[j] - lr * (d[j] + momentum * buf[j]);
    } else {
      buf[j] = momentum * buf[j] + keep * d[j];
      p[j] = p[j] - lr * buf[j];
    }
  }
}

describe('native SGD step', () => {
  const modes = [['plain', 0, 1, false], ['momentum, dampening 0.1', 0.9, 0.9, false], ['nesterov', 0.85, 1, true]] as const;
  for (const [name, momentum, keep, nesterov] of modes) {
    for (const n of [1031, 20011]) {
      it(`bit-identical to the TypeScript formula (${name}, ${n} elements)`, () => {
        const rng = makeRng(n + momentum * 100);
        const p1 = Float32Array.from({ length: n }, () => rng.normal());
        const p2 = p1.slice();
        const b1 = momentum === 0 ? null : Float32Array.from({ length: n }, () => rng.normal());
        const b2 = b1 === null ? null : b1.slice();
        for (let t = 1; t <= 30; t++) {
          const d = Float32Array.from({ length: n }, () => rng.normal() * 10 ** (rng.uniform() * 8 - 6));
          const lr = 0.0137 * t;
          sgdTs(p1, d, b1, lr, momentum, keep, nesterov);
          native.sgdStep({ p: p2, d, buf: b2, lr, momentum, keep, nesterov });
        }
        expect(p2).toEqual(p1);
        if (b1) expect(b2).toEqual(b1);
      });
    }
  }
  it('refuses mismatched lengths, aliasing and a Nesterov step without a buffer', () => {
    const call = { p: new Float32Array(4), d: new Float32Array(4), buf: new Float32Array(4), lr: 0.1, momentum: 0.9, keep: 1, nesterov: false };
    expect(() => native.sgdStep({ ...call, buf: new Float32Array(3) })).toThrow(/buf has 3 elements, expected 4/);
    expect(() => native.sgdStep({ ...call, d: call.p })).toThrow(/shares memory/);
    expect(() => native.sgdStep({ ...call, buf: null, nesterov: true })).toThrow(/sgdStep.buf/);
  });
});
