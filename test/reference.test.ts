import { afterAll, describe, expect, it } from 'vitest';
import {
  type Float64Weights,
  type ReferenceCache,
  type ReferenceRnnConfig,
  referenceParameterNames,
  referenceParameterShapes,
  referenceRnnBackward,
  referenceRnnForward,
} from '../src/reference/rnn_reference.js';
import { makeRng, type Rng } from './helpers/random.js';
import { type FixtureTensor, loadTorchFixtures, maxRelError, type TorchFixture } from './helpers/torch_fixtures.js';

// Both sides are float64 and compute the same sums; only the summation order (and
// PyTorch's BLAS blocking) differs, which moves each result by a few ulps. Values here are
// O(1) with at most a few dozen terms per sum, so 1e-12 leaves ~1000x headroom over the
// observed ~1e-15 while still catching any real mistake (those show up at 1e-3 or worse).
const FIXTURE_TOL = 1e-12;

// Central differences with eps = 1e-6: truncation ~eps^2 * f''' ~ 1e-12, cancellation
// ~1e-16 * |loss| / eps ~ 1e-10 · |loss| (observed: at most ~4e-9). 1e-6 sits well above
// both and far below the size of any real bug.
const FD_EPS = 1e-6;
const FD_TOL = 1e-6;

// ReLU has a kink at 0: a finite difference straddling it is meaningless. A perturbation of
// 1e-6 moves pre-activations by far less than this margin, so the checks stay on one side.
const RELU_MARGIN = 1e-4;

const f64 = (t: FixtureTensor): Float64Array => Float64Array.from(t.data);

function configOf(fx: TorchFixture): ReferenceRnnConfig {
  const c = fx.config;
  return {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    nonlinearity: c.nonlinearity,
    bias: c.bias,
    bidirectional: c.bidirectional,
    batchFirst: c.batchFirst,
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** One line per group (the part of the key before the tab): its worst error and the tensor. */
function summarize(errors: Record<string, number>): string {
  const groups = new Map<string, [string, number]>();
  for (const [key, err] of Object.entries(errors)) {
    const [group, what] = key.split('\t');
    const prev = groups.get(group);
    if (prev === undefined || err > prev[1]) groups.set(group, [what, err]);
  }
  return [...groups].map(([g, [what, err]]) => `  ${g}: ${err.toExponential(2)} (${what})`).join('\n');
}

describe('fixtures (PyTorch 1.13 float64)', () => {
  const fixtures = loadTorchFixtures();
  const worst: Record<string, number> = {};
  const note = (fx: string, what: string, err: number): void => {
    worst[`${fx}\t${what}`] = err;
  };

  afterAll(() => {
    // Printed so the observed agreement can be reported, not only pass/fail.
    console.log(`reference vs PyTorch fixtures (max |a-b|/max(1,|b|)):\n${summarize(worst)}`);
  });

  it('finds all fixture files', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual([
      'batch_first',
      'bidir_1layer',
      'bidir_2layer',
      'no_bias_zero_h0',
      'uni_2layer',
      'uni_relu_1layer',
      'uni_tanh_1layer',
      'varlen_bidir',
    ]);
  });

  for (const fx of fixtures) {
    describe(fx.name, () => {
      const cfg = configOf(fx);
      const { seqLen: T, batch: B } = fx.config;
      const weights: Float64Weights = {};
      for (const [k, t] of Object.entries(fx.weights)) weights[k] = f64(t);
      const h0 = fx.inputs.h0 === null ? null : f64(fx.inputs.h0);
      const fwd = referenceRnnForward(cfg, weights, f64(fx.inputs.x), T, B, h0, fx.config.seqLengths);
      const bwd = referenceRnnBackward(cfg, weights, fwd.cache, f64(fx.loss.gy), f64(fx.loss.ghN));

      it('parameter names and shapes match the state_dict', () => {
        expect(referenceParameterNames(cfg)).toEqual(Object.keys(fx.weights));
        const shapes = referenceParameterShapes(cfg);
        expect(Object.keys(shapes)).toEqual(Object.keys(fx.weights));
        for (const [k, t] of Object.entries(fx.weights)) expect(shapes[k], k).toEqual(t.shape);
      });

      it(`y and hN match to ${FIXTURE_TOL}`, () => {
        const ey = maxRelError(fwd.y, fx.outputs.y.data);
        const eh = maxRelError(fwd.hN, fx.outputs.hN.data);
        note(fx.name, 'y', ey);
        note(fx.name, 'hN', eh);
        expect(ey).toBeLessThanOrEqual(FIXTURE_TOL);
        expect(eh).toBeLessThanOrEqual(FIXTURE_TOL);
      });

      it('loss.value = sum(y*gy) + sum(hN*ghN)', () => {
        const loss = dot(fwd.y, fx.loss.gy.data) + dot(fwd.hN, fx.loss.ghN.data);
        const err = maxRelError([loss], [fx.loss.value]);
        note(fx.name, 'loss', err);
        expect(err).toBeLessThanOrEqual(FIXTURE_TOL);
      });

      it(`gx, gh0 and every parameter gradient match to ${FIXTURE_TOL}`, () => {
        const gx = fx.gradients.x;
        expect(gx).not.toBeNull();
        const ex = maxRelError(bwd.gx, gx!.data);
        note(fx.name, 'gx', ex);
        expect(ex).toBeLessThanOrEqual(FIXTURE_TOL);

        expect(bwd.gh0.length).toBe(cfg.numLayers * (cfg.bidirectional ? 2 : 1) * B * cfg.hiddenSize);
        if (fx.inputs.h0 !== null) {
          const eh = maxRelError(bwd.gh0, fx.gradients.h0!.data);
          note(fx.name, 'gh0', eh);
          expect(eh).toBeLessThanOrEqual(FIXTURE_TOL);
        } else {
          expect(fx.gradients.h0).toBeNull();
        }

        expect(Object.keys(bwd.grads)).toEqual(referenceParameterNames(cfg));
        for (const name of referenceParameterNames(cfg)) {
          const g = fx.gradients[name];
          expect(g, name).toBeTruthy();
          const e = maxRelError(bwd.grads[name], g!.data);
          note(fx.name, name, e);
          expect(e, name).toBeLessThanOrEqual(FIXTURE_TOL);
        }
      });

      if (fx.config.seqLengths !== null) {
        it('y is exactly 0 past each length and x there gets gradient exactly 0', () => {
          const lens = fx.config.seqLengths!;
          const D = cfg.bidirectional ? 2 : 1;
          const DH = D * cfg.hiddenSize;
          const I = cfg.inputSize;
          for (let b = 0; b < B; b++) {
            for (let t = lens[b]; t < T; t++) {
              const yo = cfg.batchFirst ? (b * T + t) * DH : (t * B + b) * DH;
              const xo = cfg.batchFirst ? (b * T + t) * I : (t * B + b) * I;
              for (let j = 0; j < DH; j++) expect(Object.is(fwd.y[yo + j], 0)).toBe(true);
              for (let i = 0; i < I; i++) expect(bwd.gx[xo + i]).toBe(0);
            }
          }
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// Finite differences on random configurations.

interface FdCase {
  name: string;
  seed: number;
  cfg: ReferenceRnnConfig;
  T: number;
  B: number;
  h0: boolean;
  lengths: number[] | null;
}

function cfgOf(p: Partial<ReferenceRnnConfig> & { I: number; H: number }): ReferenceRnnConfig {
  return {
    inputSize: p.I,
    hiddenSize: p.H,
    numLayers: p.numLayers ?? 1,
    nonlinearity: p.nonlinearity ?? 'tanh',
    bias: p.bias ?? true,
    bidirectional: p.bidirectional ?? false,
    batchFirst: p.batchFirst ?? false,
  };
}

const FD_CASES: FdCase[] = [
  { name: 'uni tanh 1 layer', seed: 11, cfg: cfgOf({ I: 3, H: 4 }), T: 3, B: 2, h0: true, lengths: null },
  { name: 'uni relu 1 layer', seed: 12, cfg: cfgOf({ I: 2, H: 3, nonlinearity: 'relu' }), T: 4, B: 2, h0: true, lengths: null },
  { name: 'uni tanh 2 layers, no bias, h0 null', seed: 13, cfg: cfgOf({ I: 3, H: 3, numLayers: 2, bias: false }), T: 3, B: 2, h0: false, lengths: null },
  { name: 'uni tanh 3 layers, batchFirst', seed: 14, cfg: cfgOf({ I: 2, H: 3, numLayers: 3, batchFirst: true }), T: 3, B: 2, h0: true, lengths: null },
  { name: 'bi tanh 1 layer', seed: 15, cfg: cfgOf({ I: 3, H: 2, bidirectional: true }), T: 4, B: 2, h0: true, lengths: null },
  { name: 'bi tanh 2 layers', seed: 16, cfg: cfgOf({ I: 2, H: 3, numLayers: 2, bidirectional: true }), T: 3, B: 2, h0: true, lengths: null },
  {
    name: 'bi relu 2 layers, no bias',
    seed: 17,
    cfg: cfgOf({ I: 3, H: 3, numLayers: 2, bidirectional: true, nonlinearity: 'relu', bias: false }),
    T: 3,
    B: 2,
    h0: true,
    lengths: null,
  },
  {
    name: 'bi tanh 3 layers, batchFirst, variable lengths',
    seed: 18,
    cfg: cfgOf({ I: 2, H: 2, numLayers: 3, bidirectional: true, batchFirst: true }),
    T: 4,
    B: 3,
    h0: true,
    lengths: [2, 4, 1],
  },
  { name: 'uni tanh 2 layers, variable lengths', seed: 19, cfg: cfgOf({ I: 3, H: 3, numLayers: 2 }), T: 3, B: 3, h0: true, lengths: [3, 1, 2] },
  {
    name: 'bi relu 1 layer, variable lengths, h0 null',
    seed: 20,
    cfg: cfgOf({ I: 2, H: 4, bidirectional: true, nonlinearity: 'relu' }),
    T: 5,
    B: 3,
    h0: false,
    lengths: [5, 3, 1],
  },
  { name: 'edge T=1 B=1 I=1 H=1', seed: 21, cfg: cfgOf({ I: 1, H: 1 }), T: 1, B: 1, h0: true, lengths: null },
  { name: 'edge T=1, bi 2 layers', seed: 22, cfg: cfgOf({ I: 2, H: 2, numLayers: 2, bidirectional: true }), T: 1, B: 2, h0: true, lengths: null },
  {
    name: 'edge B=1 I=1 H=1, bi relu 2 layers',
    seed: 30,
    cfg: cfgOf({ I: 1, H: 1, numLayers: 2, bidirectional: true, nonlinearity: 'relu' }),
    T: 4,
    B: 1,
    h0: true,
    lengths: null,
  },
  { name: 'edge H=1 I=5', seed: 24, cfg: cfgOf({ I: 5, H: 1, numLayers: 2 }), T: 3, B: 2, h0: true, lengths: null },
  { name: 'edge I=1 H=3, batchFirst, bi', seed: 25, cfg: cfgOf({ I: 1, H: 3, bidirectional: true, batchFirst: true }), T: 3, B: 2, h0: true, lengths: [1, 3] },
];

function fill(rng: Rng, n: number, draw: (r: Rng) => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = draw(rng);
  return a;
}

function randomWeights(rng: Rng, cfg: ReferenceRnnConfig): Float64Weights {
  // PyTorch's init range. For relu, larger weights keep more units alive so the check sees them.
  const k = (cfg.nonlinearity === 'relu' ? 2 : 1) / Math.sqrt(cfg.hiddenSize);
  const w: Float64Weights = {};
  for (const [name, shape] of Object.entries(referenceParameterShapes(cfg))) {
    w[name] = fill(rng, shape.reduce((a, b) => a * b, 1), (r) => (2 * r.uniform() - 1) * k);
  }
  return w;
}

/** Smallest |pre-activation| over the steps actually processed. */
function minAbsPreActivation(cache: ReferenceCache): number {
  const H = cache.cfg.hiddenSize;
  let m = Infinity;
  for (const pre of cache.preActivations) {
    for (let t = 0; t < cache.seqLen; t++) {
      for (let b = 0; b < cache.batch; b++) {
        if (t >= cache.lengths[b]) continue;
        for (let j = 0; j < H; j++) m = Math.min(m, Math.abs(pre[(t * cache.batch + b) * H + j]));
      }
    }
  }
  return m;
}

const fdWorst: Record<string, number> = {};

describe('finite-difference gradient checks', () => {
  afterAll(() => {
    console.log(`finite differences vs reference backward (max |fd-an|/max(1,|an|)):\n${summarize(fdWorst)}`);
  });

  for (const c of FD_CASES) {
    it(c.name, () => {
      const { cfg, T, B } = c;
      const D = cfg.bidirectional ? 2 : 1;
      const H = cfg.hiddenSize;
      const rng = makeRng(c.seed);
      const weights = randomWeights(rng, cfg);
      const x = fill(rng, T * B * cfg.inputSize, (r) => r.normal());
      const h0 = c.h0 ? fill(rng, cfg.numLayers * D * B * H, (r) => 0.5 * r.normal()) : null;
      const gy = fill(rng, T * B * D * H, (r) => r.normal());
      const ghN = fill(rng, cfg.numLayers * D * B * H, (r) => r.normal());

      // h0 null is perturbed through an explicit zero h0 (same function at that point).
      const h0Base = h0 ?? new Float64Array(cfg.numLayers * D * B * H);
      const loss = (): number => {
        const r = referenceRnnForward(cfg, weights, x, T, B, h0Base, c.lengths);
        return dot(r.y, gy) + dot(r.hN, ghN);
      };

      const fwd = referenceRnnForward(cfg, weights, x, T, B, h0, c.lengths);
      if (cfg.nonlinearity === 'relu') {
        expect(minAbsPreActivation(fwd.cache)).toBeGreaterThan(RELU_MARGIN);
      }
      // Sanity: the loss function used for differences is the one backward differentiates.
      expect(loss()).toBe(dot(fwd.y, gy) + dot(fwd.hN, ghN));
      const bwd = referenceRnnBackward(cfg, weights, fwd.cache, gy, ghN);

      const check = (label: string, buf: Float64Array, analytic: Float64Array): void => {
        expect(analytic.length, label).toBe(buf.length);
        const fd = new Float64Array(buf.length);
        for (let i = 0; i < buf.length; i++) {
          const v = buf[i];
          buf[i] = v + FD_EPS;
          const lp = loss();
          buf[i] = v - FD_EPS;
          const lm = loss();
          buf[i] = v;
          fd[i] = (lp - lm) / (2 * FD_EPS);
        }
        const err = maxRelError(fd, analytic);
        fdWorst[`${c.name}\t${label}`] = err;
        expect(err, label).toBeLessThanOrEqual(FD_TOL);
      };

      check('x', x, bwd.gx);
      check('h0', h0Base, bwd.gh0);
      for (const name of referenceParameterNames(cfg)) check(name, weights[name], bwd.grads[name]);

      // The check means something only if no gradient is trivially zero (dead relu units).
      expect(bwd.gx.some((g) => Math.abs(g) > 1e-3)).toBe(true);
      for (const name of referenceParameterNames(cfg)) {
        expect(bwd.grads[name].some((g) => Math.abs(g) > 1e-3), name).toBe(true);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// Hand-computed cases: a transposed weight, a swapped direction or a wrong layout changes
// these numbers.

describe('hand-computed cases', () => {
  // I=3, H=2, T=2, B=1 with asymmetric W_hh and non-square W_ih. ReLU with positive
  // pre-activations keeps everything exact in binary, so results are compared with toEqual.
  //   W_ih = [[1,2,0],[0,0,1]], W_hh = [[0,1],[0.5,0]], b_ih = [0.5,0], b_hh = [0,0.25]
  //   x0 = [1,1,1], x1 = [2,0,-1], h0 = [1,2]
  // step 0: W_ih x0 + b_ih = [3.5,1],  W_hh h0 + b_hh = [2,0.75]   -> h1 = [5.5,1.75]
  //         (W_hh^T h0 would be [1,1]; W_ih^T is not even the right size)
  // step 1: W_ih x1 + b_ih = [2.5,-1], W_hh h1 + b_hh = [1.75,3]   -> h2 = [4.25,2]
  const cfg = cfgOf({ I: 3, H: 2, nonlinearity: 'relu' });
  const weights: Float64Weights = {
    weight_ih_l0: Float64Array.of(1, 2, 0, 0, 0, 1),
    weight_hh_l0: Float64Array.of(0, 1, 0.5, 0),
    bias_ih_l0: Float64Array.of(0.5, 0),
    bias_hh_l0: Float64Array.of(0, 0.25),
  };
  const x = Float64Array.of(1, 1, 1, 2, 0, -1);
  const h0 = Float64Array.of(1, 2);

  it('relu forward, worked by hand', () => {
    const r = referenceRnnForward(cfg, weights, x, 2, 1, h0, null);
    expect(Array.from(r.y)).toEqual([5.5, 1.75, 4.25, 2]);
    expect(Array.from(r.hN)).toEqual([4.25, 2]);
  });

  it('relu backward, worked by hand', () => {
    // loss = y[1][0]. ga1 = [1,0]; gh1 = W_hh^T ga1 = [0,1] = ga0; gh0 = W_hh^T ga0 = [0.5,0].
    // gW_hh = ga1 h1^T + ga0 h0^T, gW_ih = ga1 x1^T + ga0 x0^T, gx_t = W_ih^T ga_t.
    const r = referenceRnnForward(cfg, weights, x, 2, 1, h0, null);
    const g = referenceRnnBackward(cfg, weights, r.cache, Float64Array.of(0, 0, 1, 0), null);
    expect(Array.from(g.grads.weight_hh_l0)).toEqual([5.5, 1.75, 1, 2]);
    expect(Array.from(g.grads.weight_ih_l0)).toEqual([2, 0, -1, 1, 1, 1]);
    expect(Array.from(g.grads.bias_ih_l0)).toEqual([1, 1]);
    expect(Array.from(g.grads.bias_hh_l0)).toEqual([1, 1]);
    expect(Array.from(g.gx)).toEqual([0, 0, 1, 1, 2, 0]);
    expect(Array.from(g.gh0)).toEqual([0.5, 0]);
  });

  it('tanh forward, same weights', () => {
    const r = referenceRnnForward({ ...cfg, nonlinearity: 'tanh' }, weights, x, 2, 1, h0, null);
    const h1 = [Math.tanh(5.5), Math.tanh(1.75)];
    const h2 = [Math.tanh(2.5 + h1[1]), Math.tanh(-1 + 0.5 * h1[0] + 0.25)];
    expect(maxRelError(r.y, [...h1, ...h2])).toBeLessThan(1e-15);
    expect(maxRelError(r.hN, h2)).toBeLessThan(1e-15);
  });

  // Bidirectional, H=I=1, T=3, B=2, lengths [3,2], no bias, relu, h0 = 0.
  //   forward  w_ih=1, w_hh=0.5;  reverse w_ih=2, w_hh=0.25
  //   x (time-major): t0 [1,4], t1 [2,8], t2 [3,99]   (99 lies past row 1's length)
  //   row 0 fwd: 1, 2.5, 4.25        row 0 rev (t2..t0): 6, 5.5, 3.375
  //   row 1 fwd: 4, 10 (stops)       row 1 rev starts at t1: 16, then t0: 12
  const bi = cfgOf({ I: 1, H: 1, bidirectional: true, nonlinearity: 'relu', bias: false });
  const biW: Float64Weights = {
    weight_ih_l0: Float64Array.of(1),
    weight_hh_l0: Float64Array.of(0.5),
    weight_ih_l0_reverse: Float64Array.of(2),
    weight_hh_l0_reverse: Float64Array.of(0.25),
  };
  const biX = Float64Array.of(1, 4, 2, 8, 3, 99);

  it('bidirectional with lengths, worked by hand (time-major)', () => {
    const r = referenceRnnForward(bi, biW, biX, 3, 2, null, [3, 2]);
    expect(Array.from(r.y)).toEqual([1, 3.375, 4, 12, 2.5, 5.5, 10, 16, 4.25, 6, 0, 0]);
    expect(Array.from(r.hN)).toEqual([4.25, 10, 3.375, 12]);
  });

  it('bidirectional with lengths, worked by hand (batchFirst)', () => {
    const bf = { ...bi, batchFirst: true };
    const r = referenceRnnForward(bf, biW, Float64Array.of(1, 2, 3, 4, 8, 99), 3, 2, null, [3, 2]);
    expect(Array.from(r.y)).toEqual([1, 3.375, 2.5, 5.5, 4.25, 6, 4, 12, 10, 16, 0, 0]);
    expect(Array.from(r.hN)).toEqual([4.25, 10, 3.375, 12]);
  });

  it('bidirectional backward through the reverse start, worked by hand', () => {
    // loss = reverse output of row 1 at t0 (= 12). Its step: ga=1, x=4, previous state 16.
    // The step before (t1, the first one processed): ga = 0.25, x=8, previous state h0=0.
    const r = referenceRnnForward(bi, biW, biX, 3, 2, null, [3, 2]);
    const gy = new Float64Array(12);
    gy[3] = 1;
    const g = referenceRnnBackward(bi, biW, r.cache, gy, null);
    expect(Array.from(g.grads.weight_ih_l0_reverse)).toEqual([4 + 0.25 * 8]);
    expect(Array.from(g.grads.weight_hh_l0_reverse)).toEqual([16]);
    expect(Array.from(g.grads.weight_ih_l0)).toEqual([0]);
    expect(Array.from(g.grads.weight_hh_l0)).toEqual([0]);
    expect(Array.from(g.gx)).toEqual([0, 2, 0, 0.5, 0, 0]);
    expect(Array.from(g.gh0)).toEqual([0, 0, 0, 0.0625]);
  });
});

describe('other semantics', () => {
  const cfg = cfgOf({ I: 2, H: 3, numLayers: 2, bidirectional: true });
  const rng = makeRng(99);
  const w = randomWeights(rng, cfg);
  const T = 3;
  const B = 2;
  const x = fill(rng, T * B * 2, (r) => r.normal());
  const gy = fill(rng, T * B * 6, (r) => r.normal());
  const ghN = fill(rng, 4 * B * 3, (r) => r.normal());

  it('h0 null behaves as zeros, and gh0 is still returned', () => {
    const a = referenceRnnForward(cfg, w, x, T, B, null, null);
    const b = referenceRnnForward(cfg, w, x, T, B, new Float64Array(4 * B * 3), null);
    expect(a.y).toEqual(b.y);
    expect(a.hN).toEqual(b.hN);
    const ga = referenceRnnBackward(cfg, w, a.cache, gy, ghN);
    const gb = referenceRnnBackward(cfg, w, b.cache, gy, ghN);
    expect(ga.gh0.length).toBe(4 * B * 3);
    expect(ga.gh0).toEqual(gb.gh0);
    expect(ga.gh0.some((v) => v !== 0)).toBe(true);
  });

  it('null gy / ghN mean zeros', () => {
    const f = referenceRnnForward(cfg, w, x, T, B, null, null);
    const zero = referenceRnnBackward(cfg, w, f.cache, null, null);
    expect(zero.gx.every((v) => v === 0)).toBe(true);
    const onlyY = referenceRnnBackward(cfg, w, f.cache, gy, null);
    expect(onlyY.gx).toEqual(referenceRnnBackward(cfg, w, f.cache, gy, new Float64Array(ghN.length)).gx);
  });

  it('lengths all equal to T match no lengths', () => {
    const a = referenceRnnForward(cfg, w, x, T, B, null, null);
    const b = referenceRnnForward(cfg, w, x, T, B, null, [T, T]);
    expect(b.y).toEqual(a.y);
    expect(b.hN).toEqual(a.hN);
  });

  it('the forward pass does not modify its inputs', () => {
    const h0 = fill(rng, 4 * B * 3, (r) => r.normal());
    const copies = [x.slice(), h0.slice(), ...Object.values(w).map((a) => a.slice())];
    const f = referenceRnnForward(cfg, w, x, T, B, h0, null);
    referenceRnnBackward(cfg, w, f.cache, gy, ghN);
    expect([x, h0, ...Object.values(w)]).toEqual(copies);
  });

  it('rejects bad arguments', () => {
    expect(() => referenceRnnForward(cfg, w, x.subarray(1), T, B, null, null)).toThrow(RangeError);
    expect(() => referenceRnnForward(cfg, { ...w, weight_hh_l1: new Float64Array(2) }, x, T, B, null, null)).toThrow(RangeError);
    const { weight_ih_l1_reverse: _omit, ...missing } = w;
    expect(() => referenceRnnForward(cfg, missing, x, T, B, null, null)).toThrow(TypeError);
    expect(() => referenceRnnForward(cfg, w, x, T, B, null, [0, 3])).toThrow(RangeError);
    expect(() => referenceRnnForward(cfg, w, x, T, B, null, [4, 3])).toThrow(RangeError);
    expect(() => referenceRnnForward(cfg, w, x, T, B, null, [3])).toThrow(RangeError);
    const f = referenceRnnForward(cfg, w, x, T, B, null, null);
    expect(() => referenceRnnBackward(cfg, w, f.cache, gy.subarray(1), null)).toThrow(RangeError);
  });
});
