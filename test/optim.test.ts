import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  LinearWarmup,
  type LRScheduler,
  type Optimizer,
  type OptimizerState,
  RMSprop,
  SGD,
  type SchedulerState,
  StepLR,
} from '../src/optim/index.js';
import type { Parameter } from '../src/tensor.js';

// ---------------------------------------------------------------------------------------
// Fixtures (scripts/fixtures/gen_optim.py, PyTorch 1.13, see each file's "format" field)
// ---------------------------------------------------------------------------------------

interface OptimFixture {
  params: { name: string; shape: number[]; data: number[] }[];
  grads: Record<string, number[]>[];
  runs: { name: string; optimizer: string; options: Record<string, unknown>; trajectory: Record<string, number[]>[] }[];
}
interface SchedFixture {
  cases: { name: string; scheduler: string; options: Record<string, number>; baseLr: number; lrs: number[] }[];
}

const load = <T>(file: string): T => JSON.parse(readFileSync(new URL(`./fixtures/optim/${file}`, import.meta.url), 'utf8')) as T;
const OPT = load<OptimFixture>('optimizers.json');
const SCHED = load<SchedFixture>('schedulers.json');

// SGD, Adagrad and RMSprop compute each element in float64 from the float32 parameter,
// gradient and state, and round once when storing; torch.optim rounds every intermediate
// tensor (d_p, buffers, sqrt, denominators) to float32 (and may fuse multiply-adds). Each step
// therefore differs by a few float32 ulps, and the differences add up over 10 steps.
// Parameters are O(1) (|θ| < 4): one ulp is 1.2e-7 on [1, 2), and the largest difference
// observed over these configurations is 3e-7. A tolerance of 2e-6·max(1, |θ|) (~16 ulps)
// leaves ~7x headroom while any formula error (a missing bias correction, wrong momentum or
// decay) moves the trajectory by 1e-4 or more, since updates are ~lr = 1e-2.
const TRAJ_TOL = 2e-6;
// Adam and AdamW round where torch.optim rounds (float32, its order of operations): plain Adam
// gives torch's bits at every step, the others 95-99% of them, the rest one ulp off
// (1.5e-8·max(1, |θ|) at most; the earlier float64 form was up to 54 ulps off).
const ADAM_TOL = 1e-7;
const ADAM_MIN_EXACT = 0.9;

type Ctor = (params: Parameter[], options: Record<string, unknown>) => Optimizer;
const CTORS: Record<string, Ctor> = {
  SGD: (p, o) => new SGD(p, o as never),
  Adagrad: (p, o) => new Adagrad(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
};

function freshParams(): Parameter[] {
  return OPT.params.map((p) => ({ name: p.name, shape: p.shape, data: Float32Array.from(p.data), grad: new Float32Array(p.data.length) }));
}

function setGrads(params: Parameter[], k: number): void {
  for (const p of params) p.grad.set(OPT.grads[k][p.name]);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let j = 0; j < expected.length; j++) {
    const e = Math.fround(expected[j]);
    const err = Math.abs(actual[j] - e) / Math.max(1, Math.abs(e));
    if (!(err <= worst)) {
      worst = err;
      at = j;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(`${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (scaled error ${worst} > ${tol})`);
  }
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

// ---------------------------------------------------------------------------------------

describe('optimizers against torch.optim 1.13 trajectories', () => {
  for (const run of OPT.runs) {
    it(`${run.name}: ${run.optimizer}(${JSON.stringify(run.options)}) matches torch after each of 10 steps`, () => {
      const params = freshParams();
      const opt = CTORS[run.optimizer](params, run.options);
      const adam = run.optimizer.startsWith('Adam');
      let exact = 0;
      let total = 0;
      for (let k = 0; k < run.trajectory.length; k++) {
        setGrads(params, k);
        opt.step();
        for (const p of params) expectClose(p.data, run.trajectory[k][p.name], adam ? ADAM_TOL : TRAJ_TOL, `${run.name} step ${k + 1} ${p.name}`);
        for (const p of params) {
          const want = run.trajectory[k][p.name];
          for (let j = 0; j < want.length; j++) if (p.data[j] === Math.fround(want[j])) exact++;
          total += want.length;
        }
      }
      if (adam) expect(exact / total, `${run.name}: the share of torch's bits`).toBeGreaterThanOrEqual(run.name === 'adam_plain' ? 1 : ADAM_MIN_EXACT);
    });
  }
});

describe('optimizers against the published update rules (float64, in the test)', () => {
  // Gradients that change sign and size over the steps: g(k, j) for step k, element j.
  const grad = (k: number, j: number): number => Math.fround(Math.sin(1.3 * k + 0.7 * j) * (1 + 0.5 * Math.cos(k * j)));
  const N = 7;
  const STEPS = 12;
  const init = Array.from({ length: N }, (_, j) => Math.fround(0.5 - 0.3 * j));

  function runOurs(make: (p: Parameter[]) => Optimizer): Float32Array[] {
    const p: Parameter = { name: 'w', shape: [N], data: Float32Array.from(init), grad: new Float32Array(N) };
    const opt = make([p]);
    const out: Float32Array[] = [];
    for (let k = 0; k < STEPS; k++) {
      for (let j = 0; j < N; j++) p.grad[j] = grad(k, j);
      opt.step();
      out.push(Float32Array.from(p.data));
    }
    return out;
  }

  function check(ours: Float32Array[], ref: (theta: number[], k: number) => void): void {
    const theta = [...init];
    for (let k = 0; k < STEPS; k++) {
      ref(theta, k);
      expectClose(ours[k], theta, TRAJ_TOL, `step ${k + 1}`);
    }
  }

  it('Adam with a constant gradient moves each element by lr·g/(|g| + eps) per step (bias corrections cancel)', () => {
    // m_t = (1-β1^t)g and v_t = (1-β2^t)g², so m̂ = g, √v̂ = |g|: θ_t = θ_0 − t·lr·g/(|g|+eps).
    const g = [0.5, -2, 1e-3, 0, 3, -0.25];
    const p: Parameter = { name: 'w', shape: [6], data: new Float32Array([1, -1, 0.5, 2, 0, 0.25]), grad: Float32Array.from(g) };
    const theta0 = Array.from(p.data);
    const lr = 0.01;
    const eps = 1e-8;
    const opt = new Adam([p], { lr, eps });
    for (let t = 1; t <= 20; t++) {
      opt.step();
      expectClose(p.data, theta0.map((th, j) => th - (t * lr * g[j]) / (Math.abs(g[j]) + eps)), TRAJ_TOL, `step ${t}`);
    }
  });

  it('SGD with Nesterov momentum and weight decay', () => {
    const lr = 0.05, mu = 0.9, wd = 0.02;
    const buf: number[] = new Array(N).fill(0);
    check(runOurs((p) => new SGD(p, { lr, momentum: mu, nesterov: true, weightDecay: wd })), (th, k) => {
      for (let j = 0; j < N; j++) {
        const d = grad(k, j) + wd * th[j];
        buf[j] = k === 0 ? d : mu * buf[j] + d; // b_1 = d_1 (torch's first step), dampening 0
        th[j] -= lr * (d + mu * buf[j]);
      }
    });
  });

  it('SGD with momentum and dampening', () => {
    const lr = 0.1, mu = 0.8, damp = 0.3;
    const buf: number[] = new Array(N).fill(0);
    check(runOurs((p) => new SGD(p, { lr, momentum: mu, dampening: damp })), (th, k) => {
      for (let j = 0; j < N; j++) {
        const d = grad(k, j);
        buf[j] = k === 0 ? d : mu * buf[j] + (1 - damp) * d;
        th[j] -= lr * buf[j];
      }
    });
  });

  it('Adagrad with lr decay, weight decay and an initial accumulator', () => {
    const lr = 0.1, decay = 0.2, wd = 0.05, init0 = 0.3, eps = 1e-10;
    const sum: number[] = new Array(N).fill(init0);
    check(runOurs((p) => new Adagrad(p, { lr, lrDecay: decay, weightDecay: wd, initialAccumulatorValue: init0 })), (th, k) => {
      const clr = lr / (1 + k * decay); // step t = k + 1
      for (let j = 0; j < N; j++) {
        const d = grad(k, j) + wd * th[j];
        sum[j] += d * d;
        th[j] -= (clr * d) / (Math.sqrt(sum[j]) + eps);
      }
    });
  });

  it('RMSprop centered with momentum', () => {
    const lr = 0.01, alpha = 0.9, eps = 1e-8, mu = 0.7;
    const v: number[] = new Array(N).fill(0);
    const m: number[] = new Array(N).fill(0);
    const b: number[] = new Array(N).fill(0);
    check(runOurs((p) => new RMSprop(p, { lr, alpha, eps, momentum: mu, centered: true })), (th, k) => {
      for (let j = 0; j < N; j++) {
        const g = grad(k, j);
        v[j] = alpha * v[j] + (1 - alpha) * g * g;
        m[j] = alpha * m[j] + (1 - alpha) * g;
        b[j] = mu * b[j] + g / (Math.sqrt(v[j] - m[j] * m[j]) + eps);
        th[j] -= lr * b[j];
      }
    });
  });

  it('AdamW with amsgrad (decoupled weight decay, running max of v)', () => {
    const lr = 0.02, b1 = 0.85, b2 = 0.95, eps = 1e-8, wd = 0.1;
    const m: number[] = new Array(N).fill(0);
    const v: number[] = new Array(N).fill(0);
    const vmax: number[] = new Array(N).fill(0);
    check(runOurs((p) => new AdamW(p, { lr, betas: [b1, b2], eps, weightDecay: wd, amsgrad: true })), (th, k) => {
      const t = k + 1;
      for (let j = 0; j < N; j++) {
        const g = grad(k, j);
        th[j] *= 1 - lr * wd;
        m[j] = b1 * m[j] + (1 - b1) * g;
        v[j] = b2 * v[j] + (1 - b2) * g * g;
        vmax[j] = Math.max(vmax[j], v[j]);
        th[j] -= ((lr / (1 - b1 ** t)) * m[j]) / (Math.sqrt(vmax[j]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    });
  });
});

describe('optimizer basics', () => {
  it('defaults are those of torch.optim 1.13', () => {
    const p = freshParams();
    expect(new Adam(p).stateDict().hyper).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
    expect(new AdamW(p).stateDict().hyper).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false });
    expect(new Adagrad(p).stateDict().hyper).toEqual({ lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false });
    expect(new RMSprop(p).stateDict().hyper).toEqual({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false });
    expect(new SGD(p, { lr: 0.1 }).stateDict().hyper).toEqual({ lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });
  });

  it('zeroGrad sets every gradient to zero and leaves the values alone', () => {
    const params = freshParams();
    setGrads(params, 0);
    const before = params.map((p) => Float32Array.from(p.data));
    new SGD(params, { lr: 1 }).zeroGrad();
    params.forEach((p, i) => {
      expect(p.grad.every((g) => g === 0)).toBe(true);
      expect(p.data).toEqual(before[i]);
    });
  });

  it('lr can be changed between steps (as schedulers do) and is validated', () => {
    const p: Parameter = { name: 'w', shape: [1], data: new Float32Array([1]), grad: new Float32Array([1]) };
    const opt = new SGD([p], { lr: 0.5 });
    opt.step();
    opt.lr = 0.25;
    opt.step();
    expect(p.data[0]).toBe(0.25);
    expect(() => {
      opt.lr = -1;
    }).toThrow(RangeError);
    expect(opt.lr).toBe(0.25);
  });

  it('stateDict before any step: no state for lazily initialised optimizers, Adagrad has its sums', () => {
    const params = freshParams();
    expect(new Adam(params).stateDict().state).toEqual({});
    const s = new Adagrad(params, { initialAccumulatorValue: 0.5 }).stateDict().state;
    expect(Object.keys(s)).toEqual(params.map((p) => p.name));
    expect(s['bias_ih_l0']).toEqual({ step: 0, buffers: { sum: [0.5, 0.5, 0.5, 0.5, 0.5] } });
  });

  it('stateDict holds the buffers each optimizer documents, as plain number arrays', () => {
    const params = freshParams();
    const names = (o: Optimizer): string[] => {
      setGrads(params, 0);
      o.step();
      const st = o.stateDict().state['fc.weight'];
      for (const b of Object.values(st.buffers)) expect(Array.isArray(b)).toBe(true);
      return Object.keys(st.buffers).sort();
    };
    expect(names(new SGD(params, { lr: 0.1 }))).toEqual([]);
    expect(names(new SGD(params, { lr: 0.1, momentum: 0.9 }))).toEqual(['momentumBuffer']);
    expect(names(new Adagrad(params))).toEqual(['sum']);
    expect(names(new RMSprop(params, { momentum: 0.5, centered: true }))).toEqual(['gradAvg', 'momentumBuffer', 'squareAvg']);
    expect(names(new Adam(params))).toEqual(['expAvg', 'expAvgSq']);
    expect(names(new AdamW(params, { amsgrad: true }))).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq']);
  });
});

describe('stateDict / loadStateDict round trip', () => {
  const configs: [string, Ctor, Record<string, unknown>][] = [
    ['SGD', CTORS.SGD, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
    ['Adagrad', CTORS.Adagrad, { lr: 0.1, lrDecay: 0.1, initialAccumulatorValue: 0.1 }],
    ['RMSprop', CTORS.RMSprop, { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.1 }],
    ['Adam', CTORS.Adam, { lr: 0.01, amsgrad: true, weightDecay: 0.05 }],
    ['AdamW', CTORS.AdamW, { lr: 0.01, betas: [0.8, 0.9] }],
  ];
  for (const [name, make, options] of configs) {
    for (const via of ['JSON', 'direct'] as const) {
      it(`${name}: 5 steps, save (${via}), load into a fresh optimizer, 5 more steps = 10 uninterrupted steps, bit for bit`, () => {
        const straight = freshParams();
        const a = make(straight, options);
        for (let k = 0; k < 10; k++) {
          setGrads(straight, k);
          a.step();
        }

        const first = freshParams();
        const b = make(first, options);
        for (let k = 0; k < 5; k++) {
          setGrads(first, k);
          b.step();
        }
        const saved = b.stateDict();
        const state = via === 'JSON' ? (JSON.parse(JSON.stringify(saved)) as OptimizerState) : saved;
        if (via === 'JSON') expect(state).toEqual(saved);

        // Fresh parameter objects holding the values reached after 5 steps, and an optimizer
        // built with other hyper-parameters: loadStateDict restores them (lr included).
        const resumed: Parameter[] = first.map((p) => ({ name: p.name, shape: p.shape, data: Float32Array.from(p.data), grad: new Float32Array(p.data.length) }));
        const c = make(resumed, { lr: 123 });
        c.loadStateDict(state);
        expect(c.stateDict()).toEqual(saved);
        for (let k = 5; k < 10; k++) {
          setGrads(resumed, k);
          c.step();
        }
        resumed.forEach((p, i) => expect(bits(p.data)).toEqual(bits(straight[i].data)));
        expect(c.stateDict()).toEqual(a.stateDict());
      });
    }
  }

  it('loadStateDict accepts Float32Array buffers and copies them', () => {
    const params = freshParams();
    const a = new Adam(params);
    setGrads(params, 0);
    a.step();
    const s = a.stateDict();
    const state = Object.fromEntries(Object.entries(s.state).map(([k, v]) => [k, { step: v.step, buffers: { expAvg: Float32Array.from(v.buffers.expAvg), expAvgSq: Float32Array.from(v.buffers.expAvgSq) } }]));
    const b = new Adam(freshParams());
    b.loadStateDict({ ...s, state });
    state['fc.weight'].buffers.expAvg.fill(7);
    expect(b.stateDict()).toEqual(s);
  });

  describe('loadStateDict validates everything before changing anything', () => {
    function stepped(): { opt: Adam; state: OptimizerState } {
      const params = freshParams();
      const opt = new Adam(params, { lr: 0.01, amsgrad: true });
      setGrads(params, 0);
      opt.step();
      return { opt, state: opt.stateDict() };
    }
    const mutate = (f: (s: Record<string, any>) => void): ((s: OptimizerState) => unknown) => (s) => {
      const c = JSON.parse(JSON.stringify(s)) as Record<string, any>;
      f(c);
      return c;
    };
    const cases: [string, (s: OptimizerState) => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      ['not an object', () => 5, TypeError, /Expected an optimizer state .* for state but received 5/],
      ['another optimizer type', mutate((s) => (s.type = 'SGD')), RangeError, /Expected 'Adam' for state.type but received "SGD"/],
      ['an unknown hyper-parameter', mutate((s) => (s.hyper.momentum = 0.9)), RangeError, /unknown key 'momentum'/],
      ['a missing hyper-parameter', mutate((s) => delete s.hyper.eps), RangeError, /Expected a value for 'eps' for state.hyper/],
      ['a negative lr', mutate((s) => (s.hyper.lr = -1)), RangeError, /for state.hyper.lr but received -1/],
      ['a beta of 1', mutate((s) => (s.hyper.betas = [0.9, 1])), RangeError, /for state.hyper.betas\[1\] but received 1/],
      ['amsgrad not a boolean', mutate((s) => (s.hyper.amsgrad = 1)), TypeError, /Expected a boolean for state.hyper.amsgrad/],
      ['an unknown parameter name', mutate((s) => (s.state['nope'] = s.state['fc.weight'])), RangeError, /unknown parameter "nope"/],
      ['a negative step', mutate((s) => (s.state['fc.weight'].step = -1)), RangeError, /state.state\["fc.weight"\].step but received -1/],
      ['a fractional step', mutate((s) => (s.state['fc.weight'].step = 1.5)), RangeError, /step but received 1.5/],
      ['a buffer of the wrong length', mutate((s) => s.state['fc.weight'].buffers.expAvg.pop()), RangeError, /Expected 4 elements \(the parameter's size\) for state.state\["fc.weight"\].buffers.expAvg/],
      ['a buffer holding a string', mutate((s) => (s.state['fc.weight'].buffers.expAvg[2] = 'x')), TypeError, /Expected a number for state.state\["fc.weight"\].buffers.expAvg\[2\]/],
      ['a buffer that is not an array', mutate((s) => (s.state['fc.weight'].buffers.expAvg = 3)), TypeError, /Float32Array or an array of numbers/],
      ['a missing required buffer (amsgrad)', mutate((s) => delete s.state['fc.weight'].buffers.maxExpAvgSq), RangeError, /Expected a buffer 'maxExpAvgSq'/],
      ['an unknown buffer', mutate((s) => (s.state['fc.weight'].buffers.momentumBuffer = [0, 0, 0, 0])), RangeError, /unknown buffer 'momentumBuffer'/],
    ];
    for (const [what, make, cls, msg] of cases) {
      it(`rejects ${what}`, () => {
        const { opt, state } = stepped();
        const bad = make(state) as OptimizerState;
        expect(() => opt.loadStateDict(bad)).toThrow(cls);
        expect(() => opt.loadStateDict(bad)).toThrow(msg);
        expect(opt.stateDict()).toEqual(state);
      });
    }
  });
});

describe('invalid optimizer arguments', () => {
  const p = (): Parameter[] => freshParams();
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['params not an array', () => new Adam({} as never), TypeError, /Expected an array of Parameters for params/],
    ['empty params', () => new Adam([]), RangeError, /Expected at least one Parameter for params/],
    ['a parameter that is not an object', () => new Adam([5 as never]), TypeError, /for params\[0\] but received 5/],
    ['a parameter without a name', () => new Adam([{ ...p()[0], name: 3 as never }]), TypeError, /Expected a string for params\[0\].name/],
    ['data not a Float32Array', () => new Adam([{ ...p()[0], data: new Float64Array(12) as never }]), TypeError, /Expected a Float32Array for params\[0\].data/],
    ['grad not a Float32Array', () => new Adam([{ ...p()[0], grad: [0] as never }]), TypeError, /Expected a Float32Array for params\[0\].grad/],
    ['data not matching the shape', () => new Adam([{ ...p()[0], shape: [2, 2] }]), RangeError, /Expected 4 elements for shape \[2, 2\] for params\[0\].data/],
    ['grad of another size', () => new Adam([{ ...p()[0], grad: new Float32Array(3) }]), RangeError, /for params\[0\].grad but received a Float32Array of length 3/],
    ['duplicate parameter names', () => new Adam([p()[0], p()[0]]), RangeError, /Expected a name not used by another parameter for params\[1\].name but received "weight_ih_l0"/],
    ['options not an object', () => new Adam(p(), 0.1 as never), TypeError, /Expected an options object for options but received 0.1/],
    ['an unknown option', () => new Adam(p(), { learningRate: 0.1 } as never), RangeError, /unknown option 'learningRate'/],
    ['a torch-style option name', () => new Adam(p(), { weight_decay: 0.1 } as never), RangeError, /unknown option 'weight_decay'/],
    ['SGD without lr', () => new SGD(p(), {} as never), TypeError, /Expected a number for options.lr but received undefined/],
    ['a negative lr', () => new SGD(p(), { lr: -0.1 }), RangeError, /Expected a number in \[0, Infinity\] for options.lr but received -0.1/],
    ['a NaN lr', () => new Adam(p(), { lr: NaN }), RangeError, /for options.lr but received NaN/],
    ['a string lr', () => new RMSprop(p(), { lr: '0.1' as never }), TypeError, /Expected a number for options.lr but received "0.1"/],
    ['a negative momentum (SGD)', () => new SGD(p(), { lr: 0.1, momentum: -0.5 }), RangeError, /for options.momentum but received -0.5/],
    ['a negative weight decay', () => new SGD(p(), { lr: 0.1, weightDecay: -1 }), RangeError, /for options.weightDecay but received -1/],
    ['nesterov without momentum', () => new SGD(p(), { lr: 0.1, nesterov: true }), RangeError, /Nesterov momentum requires a momentum and zero dampening/],
    ['nesterov with dampening', () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError, /for options.nesterov but received momentum 0.9, dampening 0.1$/],
    ['nesterov not a boolean', () => new SGD(p(), { lr: 0.1, nesterov: 1 as never }), TypeError, /Expected a boolean for options.nesterov/],
    ['a negative Adagrad lrDecay', () => new Adagrad(p(), { lrDecay: -0.1 }), RangeError, /for options.lrDecay but received -0.1/],
    ['a negative initialAccumulatorValue', () => new Adagrad(p(), { initialAccumulatorValue: -1 }), RangeError, /for options.initialAccumulatorValue but received -1/],
    ['a negative Adagrad eps', () => new Adagrad(p(), { eps: -1e-10 }), RangeError, /for options.eps but received -1e-10/],
    ['a negative RMSprop alpha', () => new RMSprop(p(), { alpha: -0.9 }), RangeError, /for options.alpha but received -0.9/],
    ['a negative RMSprop momentum', () => new RMSprop(p(), { momentum: -1 }), RangeError, /for options.momentum but received -1/],
    ['centered not a boolean', () => new RMSprop(p(), { centered: 'yes' as never }), TypeError, /Expected a boolean for options.centered/],
    ['beta1 = 1', () => new Adam(p(), { betas: [1, 0.999] }), RangeError, /Expected a number in \[0, 1\) for options.betas\[0\] but received 1/],
    ['a negative beta2', () => new Adam(p(), { betas: [0.9, -0.1] }), RangeError, /for options.betas\[1\] but received -0.1/],
    ['betas of length 3', () => new Adam(p(), { betas: [0.9, 0.99, 0.9] as never }), RangeError, /Expected an array of two numbers in \[0, 1\) for options.betas but received an array of length 3/],
    ['betas not an array', () => new AdamW(p(), { betas: 0.9 as never }), TypeError, /for options.betas but received 0.9/],
    ['a negative Adam eps', () => new Adam(p(), { eps: -1 }), RangeError, /for options.eps but received -1/],
    ['a negative AdamW weight decay', () => new AdamW(p(), { weightDecay: -0.01 }), RangeError, /for options.weightDecay but received -0.01/],
    ['amsgrad not a boolean', () => new Adam(p(), { amsgrad: 'true' as never }), TypeError, /Expected a boolean for options.amsgrad/],
  ];
  for (const [what, f, cls, msg] of cases) {
    it(`rejects ${what}`, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    });
  }

  it('treats options set to undefined as absent (defaults apply)', () => {
    expect(new Adam(freshParams(), { eps: undefined }).stateDict().hyper.eps).toBe(1e-8);
  });
});

// ---------------------------------------------------------------------------------------
// Learning-rate schedules
// ---------------------------------------------------------------------------------------

type SchedCtor = (o: Optimizer, options: Record<string, number>) => LRScheduler;
const SCHEDS: Record<string, SchedCtor> = {
  StepLR: (o, x) => new StepLR(o, x as never),
  CosineAnnealingLR: (o, x) => new CosineAnnealingLR(o, x as never),
  LinearWarmup: (o, x) => new LinearWarmup(o, x as never),
};

// PyTorch updates the lr recursively (lr ← lr·factor); we use the closed form from the base
// lr. Both are float64; the recursion accumulates one rounding per step, so after 30 steps
// they differ by ~30 ulps at most (observed: ~1e-16 relative). 1e-12 relative is far below
// any real schedule error and far above rounding.
const LR_TOL = 1e-12;

describe('lr schedules against torch.optim.lr_scheduler 1.13', () => {
  for (const c of SCHED.cases) {
    it(`${c.name}: ${c.scheduler}(${JSON.stringify(c.options)}) gives torch's lr at epochs 0..30`, () => {
      const opt = new SGD(freshParams(), { lr: c.baseLr });
      const s = SCHEDS[c.scheduler](opt, c.options);
      const got = [s.getLastLr()];
      expect(opt.lr).toBe(s.getLastLr());
      for (let e = 1; e < c.lrs.length; e++) {
        s.step();
        expect(opt.lr).toBe(s.getLastLr());
        expect(s.lastEpoch).toBe(e);
        got.push(s.getLastLr());
      }
      got.forEach((lr, e) => {
        expect(Math.abs(lr - c.lrs[e]), `epoch ${e}: ${lr} vs ${c.lrs[e]}`).toBeLessThanOrEqual(LR_TOL * Math.abs(c.lrs[e]));
      });
    });
  }

  it('hand-computed values: StepLR, cosine end points, warm-up', () => {
    const opt = new SGD(freshParams(), { lr: 2 });
    const step = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    const seen = [step.getLastLr()];
    for (let e = 0; e < 7; e++) {
      step.step();
      seen.push(step.getLastLr());
    }
    expect(seen).toEqual([2, 2, 2, 1, 1, 1, 0.5, 0.5]);

    const opt2 = new SGD(freshParams(), { lr: 1 });
    const cos = new CosineAnnealingLR(opt2, { tMax: 4, etaMin: 0.2 });
    const lrs = [cos.getLastLr()];
    for (let e = 0; e < 8; e++) {
      cos.step();
      lrs.push(cos.getLastLr());
    }
    expect(lrs[0]).toBe(1);
    expect(lrs[2]).toBeCloseTo(0.6, 15); // half way: (1 + 0.2)/2
    expect(lrs[4]).toBeCloseTo(0.2, 15); // tMax: etaMin
    expect(lrs[8]).toBeCloseTo(1, 15); // 2·tMax: back to the base lr, as torch
    const opt3 = new SGD(freshParams(), { lr: 0.4 });
    const w = new LinearWarmup(opt3, { warmupSteps: 4 });
    const wl = [w.getLastLr()];
    for (let e = 0; e < 6; e++) {
      w.step();
      wl.push(w.getLastLr());
    }
    expect(wl).toEqual([0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.4, 0.4]);
  });

  it('stateDict / loadStateDict round trip continues the same sequence and sets the optimizer lr', () => {
    for (const [name, make, options] of [
      ['StepLR', SCHEDS.StepLR, { stepSize: 4, gamma: 0.3 }],
      ['CosineAnnealingLR', SCHEDS.CosineAnnealingLR, { tMax: 9, etaMin: 0.01 }],
      ['LinearWarmup', SCHEDS.LinearWarmup, { warmupSteps: 20, startFactor: 0.1 }],
    ] as const) {
      const a = make(new SGD(freshParams(), { lr: 0.5 }), options);
      const ref: number[] = [];
      for (let e = 0; e < 25; e++) {
        a.step();
        ref.push(a.getLastLr());
      }
      const b = make(new SGD(freshParams(), { lr: 0.5 }), options);
      for (let e = 0; e < 12; e++) b.step();
      const saved = JSON.parse(JSON.stringify(b.stateDict())) as SchedulerState;
      const opt = new SGD(freshParams(), { lr: 7 });
      const c = make(opt, name === 'StepLR' ? { stepSize: 1 } : name === 'CosineAnnealingLR' ? { tMax: 1 } : { warmupSteps: 1 });
      c.loadStateDict(saved);
      expect(c.stateDict()).toEqual(b.stateDict());
      expect(opt.lr).toBe(ref[11]);
      for (let e = 12; e < 25; e++) {
        c.step();
        expect(c.getLastLr(), `${name} epoch ${e + 1}`).toBe(ref[e]);
      }
    }
  });

  const opt = (): SGD => new SGD(freshParams(), { lr: 0.1 });
  const bad: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['an optimizer that is not an Optimizer', () => new StepLR({ lr: 0.1 } as never, { stepSize: 1 }), TypeError, /Expected an Optimizer for optimizer/],
    ['StepLR without stepSize', () => new StepLR(opt(), {} as never), TypeError, /for options.stepSize but received undefined/],
    ['StepLR stepSize 0', () => new StepLR(opt(), { stepSize: 0 }), RangeError, /Expected an integer in 1\.\.\d+ for options.stepSize but received 0/],
    ['StepLR stepSize 1.5', () => new StepLR(opt(), { stepSize: 1.5 }), RangeError, /for options.stepSize but received 1.5/],
    ['StepLR negative gamma', () => new StepLR(opt(), { stepSize: 2, gamma: -0.1 }), RangeError, /for options.gamma but received -0.1/],
    ['StepLR unknown option', () => new StepLR(opt(), { stepSize: 2, step_size: 2 } as never), RangeError, /unknown option 'step_size'/],
    ['CosineAnnealingLR tMax 0', () => new CosineAnnealingLR(opt(), { tMax: 0 }), RangeError, /for options.tMax but received 0/],
    ['CosineAnnealingLR negative etaMin', () => new CosineAnnealingLR(opt(), { tMax: 5, etaMin: -1 }), RangeError, /for options.etaMin but received -1/],
    ['LinearWarmup warmupSteps 0', () => new LinearWarmup(opt(), { warmupSteps: 0 }), RangeError, /for options.warmupSteps but received 0/],
    ['LinearWarmup startFactor 1.5', () => new LinearWarmup(opt(), { warmupSteps: 3, startFactor: 1.5 }), RangeError, /Expected a number in \[0, 1\] for options.startFactor but received 1.5/],
    ['loading another scheduler type', () => new StepLR(opt(), { stepSize: 2 }).loadStateDict(new LinearWarmup(opt(), { warmupSteps: 2 }).stateDict()), RangeError, /Expected 'StepLR' for state.type but received "LinearWarmup"/],
    ['loading a negative lastEpoch', () => {
      const s = new StepLR(opt(), { stepSize: 2 });
      s.loadStateDict({ ...s.stateDict(), lastEpoch: -1 });
    }, RangeError, /for state.lastEpoch but received -1/],
    ['loading a bad saved option', () => {
      const s = new StepLR(opt(), { stepSize: 2 });
      s.loadStateDict({ ...s.stateDict(), hyper: { stepSize: 0, gamma: 0.1 } });
    }, RangeError, /for state.hyper.stepSize but received 0/],
  ];
  for (const [what, f, cls, msg] of bad) {
    it(`rejects ${what}`, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    });
  }
});
