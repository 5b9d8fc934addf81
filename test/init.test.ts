// init: torch.nn.init's names and semantics, checked against PyTorch 1.13's numbers in
// test/fixtures/init/init.json (scripts/fixtures/gen_init.py), plus the distributions,
// orthogonality and determinism of the random initialisers, and RNN's init recipes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init, loadModel, modelSpec, RNN, Rng, rnnForward, tensor, zeros, type Tensor } from '../src/index.js';
import type { FanMode, Nonlinearity } from '../src/nn/init.js';
import { orthogonalFromNormal } from '../src/nn/orthogonal.js';

interface Draw {
  fn: string;
  shape: number[];
  gain?: number;
  a?: number;
  b?: number;
  mean?: number;
  std?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  draw: { kind: 'uniform'; low: number; high: number } | { kind: 'normal'; mean: number; std: number };
}
interface Fixture {
  fans: Array<{ shape: number[]; fanIn: number; fanOut: number }>;
  fanErrors: Array<{ shape: number[]; error: string }>;
  gains: Array<{ nonlinearity: Nonlinearity; param: number | null; gain: number }>;
  gainErrors: Array<{ nonlinearity: string; param: unknown; error: string }>;
  draws: Draw[];
  empty: Array<{ fn: string; shape: number[]; error: string | null }>;
  eye: Array<{ shape: number[]; values: number[] }>;
  eyeErrors: Array<{ shape: number[]; error: string }>;
  orthogonal: Array<{ shape: number[]; gain: number; normal: number[]; values: number[] }>;
  orthogonalErrors: Array<{ shape: number[]; error: string }>;
  samples: Array<{ fn: string; shape: number[]; mean: number; std: number; min: number; max: number }>;
}

const fx = JSON.parse(readFileSync(new URL('./fixtures/init/init.json', import.meta.url), 'utf8')) as Fixture;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Records the bounds every uniform draw asks for; normal() returns 1 so a normal fill reads mean + std. */
class SpyRng extends Rng {
  ranges: Array<[number, number]> = [];
  normals = 0;
  constructor(private readonly normalValues?: readonly number[]) {
    super(1);
  }
  override range(lo: number, hi: number): number {
    this.ranges.push([lo, hi]);
    return super.range(lo, hi);
  }
  override normal(): number {
    return this.normalValues ? this.normalValues[this.normals++] : (this.normals++, 1);
  }
}

function runDraw(d: Draw, t: Tensor, rng: Rng): void {
  switch (d.fn) {
    case 'xavierUniform_': init.xavierUniform_(t, d.gain, { rng }); break;
    case 'xavierNormal_': init.xavierNormal_(t, d.gain, { rng }); break;
    case 'kaimingUniform_': init.kaimingUniform_(t, { a: d.a, mode: d.mode, nonlinearity: d.nonlinearity, rng }); break;
    case 'kaimingNormal_': init.kaimingNormal_(t, { a: d.a, mode: d.mode, nonlinearity: d.nonlinearity, rng }); break;
    case 'uniform_': init.uniform_(t, d.a, d.b, { rng }); break;
    case 'normal_': init.normal_(t, d.mean, d.std, { rng }); break;
    default: throw new Error(`unknown fixture fn ${d.fn}`);
  }
}

function stats(data: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / data.length;
  let ss = 0;
  for (const v of data) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (data.length - 1)), min, max };
}

/** max |Q^T Q - g^2 I| (tall or square) or |Q Q^T - g^2 I| (wide) for a rows x cols view. */
function orthogonalityError(data: ArrayLike<number>, rows: number, cols: number, gain: number): number {
  const wide = rows < cols;
  const n = wide ? rows : cols;
  const len = wide ? cols : rows;
  const at = (k: number, i: number): number => (wide ? data[i * cols + k] : data[k * cols + i]);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < len; k++) s += at(k, i) * at(k, j);
      worst = Math.max(worst, Math.abs(s - (i === j ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('init: fans and gains (PyTorch 1.13)', () => {
  it('calculateFanInAndFanOut matches torch.nn.init._calculate_fan_in_and_fan_out', () => {
    expect(fx.fans.length).toBeGreaterThan(5);
    for (const f of fx.fans) {
      expect(init.calculateFanInAndFanOut({ shape: f.shape }), `shape [${f.shape}]`).toEqual({ fanIn: f.fanIn, fanOut: f.fanOut });
      expect(init.calculateFanInAndFanOut(zeros(f.shape))).toEqual({ fanIn: f.fanIn, fanOut: f.fanOut });
    }
    for (const f of fx.fanErrors) {
      expect(f.error).toBe('ValueError');
      expect(() => init.calculateFanInAndFanOut({ shape: f.shape })).toThrow(RangeError);
      expect(() => init.calculateFanInAndFanOut({ shape: f.shape })).toThrow(/at least 2 dimensions.*for tensor\.shape/);
    }
    expect(() => init.calculateFanInAndFanOut({ shape: [2, -1] })).toThrow(/tensor\.shape\[1\]/);
  });

  it('calculateGain matches torch.nn.init.calculate_gain', () => {
    let maxDev = 0;
    for (const g of fx.gains) {
      const ours = g.param === null ? init.calculateGain(g.nonlinearity) : init.calculateGain(g.nonlinearity, g.param);
      maxDev = Math.max(maxDev, Math.abs(ours - g.gain));
    }
    expect(maxDev).toBe(0);
    expect(fx.gainErrors.every((e) => e.error === 'ValueError')).toBe(true);
    expect(() => init.calculateGain('softmax' as Nonlinearity)).toThrow(RangeError);
    expect(() => init.calculateGain('softmax' as Nonlinearity)).toThrow(/'leaky_relu'.*for nonlinearity but received "softmax"/);
    expect(() => init.calculateGain('leaky_relu', 'x' as unknown as number)).toThrow(TypeError);
    expect(() => init.calculateGain('leaky_relu', true as unknown as number)).toThrow(/for param but received true/);
    expect(() => init.calculateGain('leaky_relu', NaN)).toThrow(RangeError);
  });
});

describe('init: the bounds and standard deviations torch draws with', () => {
  it('xavier*, kaiming*, uniform_ and normal_ ask for exactly torch\'s distribution', () => {
    expect(fx.draws.length).toBeGreaterThan(200);
    let maxDev = 0;
    let uniforms = 0;
    let normals = 0;
    for (const d of fx.draws) {
      const label = `${d.fn} ${JSON.stringify({ ...d, draw: undefined })}`;
      const t = zeros(d.shape);
      const rng = new SpyRng();
      runDraw(d, t, rng);
      const n = numel(d.shape);
      if (d.draw.kind === 'uniform') {
        uniforms++;
        expect(rng.ranges.length, label).toBe(n);
        expect(rng.normals, label).toBe(0);
        for (const [lo, hi] of rng.ranges) maxDev = Math.max(maxDev, Math.abs(lo - d.draw.low), Math.abs(hi - d.draw.high));
        for (const v of t.data) {
          expect(v, label).toBeGreaterThanOrEqual(Math.fround(d.draw.low));
          expect(v, label).toBeLessThanOrEqual(Math.fround(d.draw.high));
        }
      } else {
        normals++;
        expect(rng.normals, label).toBe(n);
        expect(rng.ranges.length, label).toBe(0);
        // normal() returned 1, so every element is float32(mean + std).
        const want = Math.fround(d.draw.mean + d.draw.std);
        for (const v of t.data) expect(v, label).toBe(want);
      }
    }
    expect(uniforms).toBeGreaterThan(50);
    expect(normals).toBeGreaterThan(50);
    expect(maxDev).toBe(0);
  });

  it('the distributions of large draws agree with torch\'s own samples', () => {
    for (const s of fx.samples) {
      const t = zeros(s.shape);
      const rng = new Rng(11);
      switch (s.fn) {
        case 'uniform_': init.uniform_(t, -0.3, 0.7, { rng }); break;
        case 'normal_': init.normal_(t, 0.5, 2.0, { rng }); break;
        case 'xavierUniform_': init.xavierUniform_(t, 1, { rng }); break;
        case 'xavierNormal_': init.xavierNormal_(t, 2.0, { rng }); break;
        case 'kaimingUniform_': init.kaimingUniform_(t, { a: Math.sqrt(5), rng }); break;
        case 'kaimingNormal_': init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu', rng }); break;
        case 'orthogonal_': init.orthogonal_(t, 1.5, { rng }); break;
        default: throw new Error(s.fn);
      }
      const ours = stats(t.data);
      const n = t.data.length;
      // The standard error of a sample std is about std / sqrt(2n); allow 6 of ours and torch's combined.
      expect(Math.abs(ours.std - s.std), s.fn).toBeLessThan(6 * Math.SQRT2 * s.std / Math.sqrt(2 * n) + 1e-7);
      expect(Math.abs(ours.mean - s.mean), s.fn).toBeLessThan(6 * Math.SQRT2 * s.std / Math.sqrt(n));
      if (s.fn.endsWith('niform_')) {
        // Uniform: the sample range reaches both bounds within a few 1/n of the width.
        const width = s.max - s.min;
        expect(Math.abs(ours.min - s.min), s.fn).toBeLessThan(width * 1e-3);
        expect(Math.abs(ours.max - s.max), s.fn).toBeLessThan(width * 1e-3);
      }
    }
  });

  it('uniform_ and normal_ against the analytic moments', () => {
    const n = 200_000;
    const u = init.uniform_(zeros([n]), -2, 3, { seed: 5 });
    const su = stats(u.data);
    expect(su.min).toBeGreaterThanOrEqual(-2);
    expect(su.max).toBeLessThanOrEqual(3);
    expect(Math.abs(su.mean - 0.5)).toBeLessThan(5 * (5 / Math.sqrt(12)) / Math.sqrt(n));
    expect(Math.abs(su.std - 5 / Math.sqrt(12))).toBeLessThan(0.01);
    const g = init.normal_(zeros([n]), -1, 0.5, { seed: 6 });
    const sg = stats(g.data);
    expect(Math.abs(sg.mean + 1)).toBeLessThan(5 * 0.5 / Math.sqrt(n));
    expect(Math.abs(sg.std - 0.5)).toBeLessThan(0.005);
    // Gaussian tails: about 4.55% of draws beyond 2 std.
    const tails = g.data.filter((v) => Math.abs(v + 1) > 1).length / n;
    expect(Math.abs(tails - 0.0455)).toBeLessThan(0.003);
  });
});

describe('init: eye_ and the constants', () => {
  it('eye_ matches torch on square and non-square shapes', () => {
    for (const e of fx.eye) {
      const t = tensor(new Float32Array(numel(e.shape)).fill(7), e.shape);
      expect(init.eye_(t)).toBe(t);
      expect(Array.from(t.data), `shape [${e.shape}]`).toEqual(e.values);
    }
    for (const e of fx.eyeErrors) {
      expect(() => init.eye_(zeros(e.shape))).toThrow(RangeError);
      expect(() => init.eye_(zeros(e.shape))).toThrow(/2-D.*for tensor\.shape/);
    }
  });

  it('zeros_, ones_, constant_', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(init.ones_(t).data)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(init.zeros_(t).data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(init.constant_(t, 0.25).data)).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    expect(Number.isNaN(init.constant_(zeros([2]), NaN).data[1])).toBe(true);
    expect(() => init.constant_(t, '1' as unknown as number)).toThrow(/for value but received "1"/);
    // 1-D and 0-D work where no fan is needed.
    expect(Array.from(init.ones_(zeros([])).data)).toEqual([1]);
  });

  it('zero-element tensors are left alone, as torch does (torch\'s xavier_* divide by zero on [0, 0])', () => {
    const fns: Record<string, (t: Tensor) => Tensor> = {
      xavierUniform_: (t) => init.xavierUniform_(t, 1, { seed: 1 }),
      xavierNormal_: (t) => init.xavierNormal_(t, 1, { seed: 1 }),
      kaimingUniform_: (t) => init.kaimingUniform_(t, { seed: 1 }),
      kaimingNormal_: (t) => init.kaimingNormal_(t, { seed: 1 }),
      orthogonal_: (t) => init.orthogonal_(t, 1, { seed: 1 }),
      eye_: (t) => init.eye_(t),
    };
    for (const e of fx.empty) {
      if (e.error !== null) expect(`${e.fn} [${e.shape}] ${e.error}`).toMatch(/^xavier\w+ \[0,0\] ZeroDivisionError$/);
      const t = zeros(e.shape);
      expect(fns[e.fn](t).data.length).toBe(0);
    }
  });
});

describe('init: orthogonal_', () => {
  it('gives torch\'s matrix for the same normal draws (float64 QR, sign of diag(R))', () => {
    let maxDev64 = 0;
    let maxDev32 = 0;
    for (const o of fx.orthogonal) {
      const rows = o.shape[0];
      const cols = numel(o.shape) / rows;
      const q = orthogonalFromNormal(Float64Array.from(o.normal), rows, cols);
      for (let i = 0; i < q.length; i++) maxDev64 = Math.max(maxDev64, Math.abs(q[i] * o.gain - o.values[i]));
      // The public function draws rows x cols normals row-major, as torch does.
      const t = zeros(o.shape);
      const rng = new SpyRng(o.normal);
      init.orthogonal_(t, o.gain, { rng });
      expect(rng.normals).toBe(o.normal.length);
      for (let i = 0; i < t.data.length; i++) maxDev32 = Math.max(maxDev32, Math.abs(t.data[i] - o.values[i]));
    }
    expect(maxDev64).toBeLessThan(1e-12);
    expect(maxDev32).toBeLessThan(2e-7);
    for (const e of fx.orthogonalErrors) {
      expect(() => init.orthogonal_(zeros(e.shape), 1, { seed: 1 })).toThrow(/at least 2 dimensions.*for tensor\.shape/);
    }
  });

  it('is orthogonal within 1e-5 for tall, wide, square and 3-D shapes', () => {
    for (const [shape, gain] of [[[64, 16], 1], [[16, 64], 1], [[50, 50], 1], [[100, 100], 2], [[8, 4, 5], 1], [[7, 1], 1], [[1, 7], 0.5]] as Array<[number[], number]>) {
      const t = init.orthogonal_(zeros(shape), gain, { seed: 3 });
      const rows = shape[0];
      const cols = numel(shape) / rows;
      expect(orthogonalityError(t.data, rows, cols, gain), `shape [${shape}] gain ${gain}`).toBeLessThan(1e-5 * gain * gain);
    }
  });

  it('handles rank-deficient input like torch (a zero column gives sign 0)', () => {
    // Exactly as torch: sign(0) = 0 zeroes the column whose R diagonal vanished.
    const q = orthogonalFromNormal(new Float64Array([1, 0, 2, 0, 3, 0]), 3, 2);
    expect(q.filter((_, i) => i % 2 === 1).every((v) => v === 0)).toBe(true);
    const c0 = [q[0], q[2], q[4]];
    expect(Math.hypot(...c0)).toBeCloseTo(1, 12);
  });
});

describe('init: generators and determinism', () => {
  it('the same seed gives the same values; { seed } equals { rng: new Rng(seed) }', () => {
    for (const f of [
      (o: { seed?: number; rng?: Rng }) => init.uniform_(zeros([30, 20]), -1, 1, o),
      (o: { seed?: number; rng?: Rng }) => init.normal_(zeros([30, 20]), 0, 1, o),
      (o: { seed?: number; rng?: Rng }) => init.orthogonal_(zeros([30, 20]), 1, o),
      (o: { seed?: number; rng?: Rng }) => init.xavierNormal_(zeros([30, 20]), 1, o),
      (o: { seed?: number; rng?: Rng }) => init.kaimingUniform_(zeros([30, 20]), o),
    ]) {
      const a = f({ seed: 42 }).data;
      expect(f({ seed: 42 }).data).toEqual(a);
      expect(f({ rng: new Rng(42) }).data).toEqual(a);
      expect(f({ seed: 43 }).data).not.toEqual(a);
      // A shared generator advances: the second fill differs from the first.
      const rng = new Rng(42);
      expect(f({ rng }).data).toEqual(a);
      expect(f({ rng }).data).not.toEqual(a);
      // No options: a fresh randomly seeded generator.
      expect(f({}).data).not.toEqual(a);
    }
  });

  it('fills a Parameter of a module in place', () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const [wih, whh, bih] = rnn.parameters();
    expect(init.orthogonal_(whh, 1, { rng: rnn.generator })).toBe(whh);
    expect(orthogonalityError(rnn.stateDict().weight_hh_l0.data, 5, 5, 1)).toBeLessThan(1e-5);
    init.xavierUniform_(wih, init.calculateGain('tanh'), { seed: 2 });
    const bound = (5 / 3) * Math.sqrt(6 / (3 + 5));
    expect(wih.data.every((v) => Math.abs(v) <= bound)).toBe(true);
    init.zeros_(bih);
    expect(rnn.stateDict().bias_ih_l0.data.every((v) => v === 0)).toBe(true);
    expect(whh.grad.every((v) => v === 0)).toBe(true);
  });
});

describe('init: argument errors name the argument', () => {
  it('refuses bad tensors, bounds, options and generators', () => {
    expect(() => init.uniform_(null as unknown as Tensor)).toThrow(TypeError);
    expect(() => init.uniform_(null as unknown as Tensor)).toThrow(/for tensor but received null/);
    expect(() => init.zeros_({ data: new Float64Array(2), shape: [2] } as unknown as Tensor)).toThrow(/tensor\.data/);
    expect(() => init.ones_({ data: new Float32Array(3), shape: [2] })).toThrow(RangeError);
    expect(() => init.ones_({ data: new Float32Array(3), shape: 3 } as unknown as Tensor)).toThrow(/tensor\.shape/);
    const t = zeros([4, 4]);
    expect(() => init.uniform_(t, 1, 0)).toThrow(/for b but received 0/);
    expect(() => init.uniform_(t, NaN, 1)).toThrow(/for a but received NaN/);
    expect(() => init.normal_(t, 0, -1)).toThrow(/for std but received -1/);
    expect(() => init.normal_(t, Infinity)).toThrow(/for mean/);
    expect(() => init.orthogonal_(t, '2' as unknown as number)).toThrow(/for gain/);
    expect(() => init.xavierUniform_(zeros([4]))).toThrow(/at least 2 dimensions.*for tensor\.shape/);
    expect(() => init.kaimingNormal_(zeros([4]))).toThrow(RangeError);
    expect(() => init.uniform_(t, 0, 1, { seed: 1, rng: new Rng(1) })).toThrow(/either rng or seed/);
    expect(() => init.uniform_(t, 0, 1, { rng: { uniform: () => 0.5 } as unknown as Rng })).toThrow(/for options\.rng/);
    expect(() => init.uniform_(t, 0, 1, { seed: -1 })).toThrow(/options\.seed/);
    expect(() => init.uniform_(t, 0, 1, { sed: 1 } as unknown as { seed: number })).toThrow(/unknown option 'sed'/);
    expect(() => init.kaimingUniform_(t, { mode: 'fanIn' as FanMode })).toThrow(/'fan_in', 'fan_out' for options\.mode/);
    expect(() => init.kaimingUniform_(t, { nonlinearity: 'gelu' as Nonlinearity })).toThrow(/options\.nonlinearity/);
    expect(() => init.kaimingUniform_(t, { a: NaN })).toThrow(/options\.a/);
    // A refused call leaves the tensor as it was.
    init.constant_(t, 3);
    expect(() => init.kaimingUniform_(t, { mode: 'x' as FanMode, seed: 1 })).toThrow();
    expect(t.data.every((v) => v === 3)).toBe(true);
  });
});

describe('RNN init recipes', () => {
  const base = { inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 9 } as const;

  it('no recipe (or an empty one, or all defaults) is PyTorch\'s U(-1/sqrt(H), 1/sqrt(H)), bit for bit as before', () => {
    const ref = new RNN(base).stateDict();
    const rng = new Rng(9);
    const k = 1 / Math.sqrt(6);
    for (const t of Object.values(ref)) for (const v of t.data) expect(v).toBe(Math.fround(rng.range(-k, k)));
    expect(new RNN({ ...base, init: {} }).stateDict()).toEqual(ref);
    expect(new RNN({ ...base, init: { weightHh: 'default', weightIh: 'default' } }).stateDict()).toEqual(ref);
  });

  it('IRNN: identity recurrent weights scaled by gain, constant biases, the input weights untouched', () => {
    const ref = new RNN({ ...base, nonlinearity: 'relu' }).stateDict();
    for (const gain of [1, 0.5]) {
      const rnn = new RNN({ ...base, nonlinearity: 'relu', init: { weightHh: 'identity', gain, bias: 0 } });
      const sd = rnn.stateDict();
      expect(Object.keys(sd).filter((n) => n.startsWith('weight_hh_'))).toEqual(['weight_hh_l0', 'weight_hh_l0_reverse', 'weight_hh_l1', 'weight_hh_l1_reverse']);
      for (const [name, t] of Object.entries(sd)) {
        if (name.startsWith('weight_hh_')) {
          for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(t.data[i * 6 + j], `${name}[${i},${j}]`).toBe(i === j ? gain : 0);
        } else if (name.startsWith('bias_')) {
          expect(t.data.every((v) => v === 0), name).toBe(true);
        } else {
          expect(t.data, name).toEqual(ref[name].data);
        }
      }
    }
  });

  it('orthogonal recurrent weights and xavier / orthogonal input weights', () => {
    const rnn = new RNN({ ...base, init: { weightHh: 'orthogonal', gain: 1.2, weightIh: 'xavierUniform' } });
    for (const [name, t] of Object.entries(rnn.stateDict())) {
      if (name.startsWith('weight_hh_')) expect(orthogonalityError(t.data, 6, 6, 1.2), name).toBeLessThan(1e-5);
      if (name.startsWith('weight_ih_')) {
        const [H, I] = t.shape;
        const bound = Math.sqrt(6 / (H + I));
        expect(t.data.every((v) => Math.abs(v) <= bound), name).toBe(true);
        expect(t.data.some((v) => Math.abs(v) > 1 / Math.sqrt(6)), `${name} drawn with xavier's wider bound`).toBe(true);
      }
    }
    // Layer 1's input weights are [6, 12]: wide, orthonormal rows.
    const wide = new RNN({ ...base, init: { weightIh: 'orthogonal' } }).stateDict();
    expect(wide.weight_ih_l1.shape).toEqual([6, 12]);
    expect(orthogonalityError(wide.weight_ih_l1.data, 6, 12, 1)).toBeLessThan(1e-5);
    expect(orthogonalityError(wide.weight_ih_l0.data, 6, 3, 1)).toBeLessThan(1e-5);
    // Deterministic under the seed.
    expect(new RNN({ ...base, init: { weightHh: 'orthogonal', gain: 1.2, weightIh: 'xavierUniform' } }).stateDict()).toEqual(rnn.stateDict());
  });

  it('the identity recurrence carries the state: a ReLU IRNN with zero input keeps h0', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 4, nonlinearity: 'relu', seed: 1, init: { weightHh: 'identity', bias: 0 } });
    const h0 = tensor([0.1, 0.2, 0.3, 0.4], [1, 1, 4]);
    const { hN } = rnn.forward(zeros([50, 1, 2]), { h0 });
    expect(Array.from(hN.data)).toEqual(Array.from(h0.data));
  });

  it('refuses bad recipes, naming the option', () => {
    expect(() => new RNN({ ...base, init: { weightHh: 'eye' as 'identity' } })).toThrow(/'identity'.*for init\.weightHh/);
    expect(() => new RNN({ ...base, init: { weightIh: 'identity' as 'orthogonal' } })).toThrow(/init\.weightIh/);
    expect(() => new RNN({ ...base, init: { gain: 2 } })).toThrow(/'identity' or 'orthogonal' for init\.gain/);
    expect(() => new RNN({ ...base, init: { weightHh: 'identity', gain: NaN } })).toThrow(/init\.gain/);
    expect(() => new RNN({ ...base, bias: false, init: { bias: 0 } })).toThrow(/bias: false for init\.bias/);
    expect(() => new RNN({ ...base, init: { weightHh: 'identity', biases: 0 } as never })).toThrow(/unknown option 'biases'/);
    expect(() => new RNN({ ...base, init: 'irnn' as never })).toThrow(/for init but received "irnn"/);
  });

  it('is not part of the architecture: model files and the functional form ignore it', async () => {
    const rnn = new RNN({ ...base, nonlinearity: 'relu', init: { weightHh: 'identity', bias: 0 } });
    expect(rnn.config).not.toHaveProperty('init');
    const spec = modelSpec(rnn);
    expect(JSON.stringify(spec)).not.toContain('init');
    const path = join(mkdtempSync(join(tmpdir(), 'rnnblas-init-')), 'irnn.safetensors');
    await rnn.save(path);
    const { model } = await loadModel(path);
    expect(model).toBeInstanceOf(RNN);
    expect((model as RNN).config).toEqual(rnn.config);
    expect(model.stateDict()).toEqual(rnn.stateDict());
    // The functional form accepts (and checks) the option too.
    const x = zeros([2, 1, 3]);
    expect(rnnForward({ ...base, init: { weightHh: 'identity' } }, rnn.stateDict(), x).y.shape).toEqual([2, 1, 12]);
    expect(() => rnnForward({ ...base, init: { gain: 1 } }, rnn.stateDict(), x)).toThrow(/init\.gain/);
  });
});

describe('init: the README example', () => {
  it('runs as written', () => {
    // --- README: Initialisation ---
    // IRNN (Le, Jaitly & Hinton 2015): ReLU, identity recurrence, zero biases.
    const irnn = new RNN({ inputSize: 2, hiddenSize: 100, nonlinearity: 'relu', seed: 1,
                           init: { weightHh: 'identity', bias: 0 } });
    const rng = new Rng(2);            // ... and the paper's small Gaussian input weights
    for (const p of irnn.parameters()) if (p.name.startsWith('weight_ih')) init.normal_(p, 0, 0.001, { rng });
    const orth = new RNN({ inputSize: 8, hiddenSize: 64, init: { weightHh: 'orthogonal', gain: 1, weightIh: 'xavierUniform' } });
    // --- end README ---
    const sd = irnn.stateDict();
    expect(sd.weight_hh_l0.data[0]).toBe(1);
    expect(sd.weight_hh_l0.data[1]).toBe(0);
    expect(Math.abs(stats(sd.weight_ih_l0.data).std - 0.001)).toBeLessThan(2e-4);
    expect(sd.bias_hh_l0.data.every((v) => v === 0)).toBe(true);
    expect(orthogonalityError(orth.stateDict().weight_hh_l0.data, 64, 64, 1)).toBeLessThan(1e-5);
  });
});
