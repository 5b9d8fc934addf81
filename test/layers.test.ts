// Gradient checks and semantics of the non-recurrent layers, and Sequential.
import { describe, expect, it } from 'vitest';
import { Embedding, LastStep, Linear, MergeDirections, RNN, RnnStream, Sequential, splitDirections, tensor, type Tensor } from '../src/index.js';
import { makeRng } from './helpers/random.js';

const rng = makeRng(99);
const rand = (shape: number[]): Tensor => tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);

/** sum(f(x) * g) and its gradient by central differences (in float64 over float32 inputs). */
function numericGrad(f: (x: Tensor) => Tensor, x: Tensor, g: Tensor, eps = 1e-2): Float64Array {
  const out = new Float64Array(x.data.length);
  const loss = (t: Tensor) => f(t).data.reduce((s, v, i) => s + v * g.data[i], 0);
  for (let i = 0; i < x.data.length; i++) {
    const plus = x.data.slice();
    const minus = x.data.slice();
    plus[i] += eps;
    minus[i] -= eps;
    out[i] = (loss({ data: plus, shape: x.shape }) - loss({ data: minus, shape: x.shape })) / (2 * eps);
  }
  return out;
}

// These layers are linear or bilinear in each input, so central differences are
// exact up to float32 rounding of the sums (~1e-5 relative here).
const expectClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-3) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]))).toBeLessThan(tol);
};

describe('Linear', () => {
  it('computes x W^T + b on the last axis (hand-checked)', () => {
    const lin = new Linear({ inFeatures: 2, outFeatures: 3 });
    lin.loadStateDict({ weight: tensor([1, 2, 3, 4, 5, 6], [3, 2]), bias: tensor([0.5, -1, 2], [3]) });
    const y = lin.forward(tensor([1, -1, 2, 0.5], [2, 2]));
    expect(Array.from(y.data)).toEqual([1 - 2 + 0.5, 3 - 4 - 1, 5 - 6 + 2, 2 + 1 + 0.5, 6 + 2 - 1, 10 + 3 + 2]);
    expect(y.shape).toEqual([2, 3]);
  });
  it('gradients of x, weight and bias match finite differences on [T,B,F]', () => {
    const lin = new Linear({ inFeatures: 4, outFeatures: 3, seed: 1 });
    const x = rand([2, 3, 4]);
    const g = rand([2, 3, 3]);
    lin.forward(x);
    const dx = lin.backward(g) as Tensor;
    expectClose(dx.data, numericGrad((t) => lin.forward(t), x, g));
    const w = lin.stateDict().weight;
    const numW = numericGrad((t) => { const saved = w.data.slice(); w.data.set(t.data); const y = lin.forward(x); w.data.set(saved); return y; }, { data: w.data.slice(), shape: w.shape }, g);
    expectClose(lin.parameters()[0].grad, numW);
    const db = new Float64Array(3);
    for (let r = 0; r < 6; r++) for (let j = 0; j < 3; j++) db[j] += g.data[r * 3 + j];
    expectClose(lin.parameters()[1].grad, db);
  });
  it('invalid input width', () => expect(() => new Linear({ inFeatures: 4, outFeatures: 2 }).forward(rand([2, 3]))).toThrow(/inFeatures = 4/));
  it('invalid options', () => expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(RangeError));
  it('backward before forward', () => expect(() => new Linear({ inFeatures: 1, outFeatures: 1 }).backward(rand([1, 1]))).toThrow(/before forward/));
});

describe('Embedding', () => {
  it('looks up rows and scatters gradients (repeated ids accumulate)', () => {
    const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 2, seed: 3 });
    const w = emb.stateDict().weight.data;
    const ids = { data: new Int32Array([1, 3, 1]), shape: [3, 1] };
    const y = emb.forward(ids);
    expect(Array.from(y.data)).toEqual([w[2], w[3], w[6], w[7], w[2], w[3]]);
    emb.backward(tensor([1, 2, 3, 4, 5, 6], [3, 1, 2]));
    expect(Array.from(emb.parameters()[0].grad)).toEqual([0, 0, 1 + 5, 2 + 6, 0, 0, 3, 4]);
  });
  it('an out-of-range id is a RangeError naming the id and its position', () => {
    const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    expect(() => emb.forward({ data: new Int32Array([0, 7]), shape: [2, 1] })).toThrow(/ids\[1\] but received 7 at position 1 \(index \[1, 0\]\)/);
  });
  it('non-Int32Array ids', () => expect(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2 }).forward({ data: new Float32Array(2) as never, shape: [2] })).toThrow(TypeError));
});

describe('LastStep', () => {
  it('picks step len-1 (forward half) and step 0 (reverse half)', () => {
    // [T=3, B=2, F=4]: value = 100 t + 10 b + f
    const x = tensor(Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 8) + 10 * (Math.floor(i / 4) % 2) + (i % 4)), [3, 2, 4]);
    const y = new LastStep({ directions: 2 }).forward(x, [2, 3]);
    expect(Array.from(y.data)).toEqual([100, 101, 2, 3, 210, 211, 12, 13]);
  });
  it('gradient matches finite differences (batchFirst)', () => {
    const ls = new LastStep({ directions: 2, batchFirst: true });
    const x = rand([2, 3, 4]);
    const g = rand([2, 4]);
    ls.forward(x, [3, 1]);
    const dx = ls.backward(g);
    expectClose(dx.data, numericGrad((t) => new LastStep({ directions: 2, batchFirst: true }).forward(t, [3, 1]), x, g));
  });
  it('lengths out of range', () => expect(() => new LastStep().forward(rand([2, 1, 2]), [3])).toThrow(RangeError));
  it('inside a Sequential its reused gradient buffer holds only this step\'s rows (lengths changing between steps)', () => {
    for (const [directions, batchFirst] of [[1, false], [2, false], [2, true]] as const) {
      const ls = new LastStep({ directions, batchFirst });
      const seq = new Sequential([ls]);
      const [T, B, F] = [4, 3, 6];
      let previous: Float32Array | undefined;
      for (const lengths of [[4, 2, 1], [1, 3, 4], [2, 2, 2], [4, 4, 4]]) {
        const x = rand(batchFirst ? [B, T, F] : [T, B, F]);
        const g = rand([B, F]);
        // The expected gradient from a fresh LastStep's public backward (a new buffer).
        const fresh = new LastStep({ directions, batchFirst });
        fresh.forward(x, lengths);
        const want = fresh.backward(g).data;
        seq.forward(x, { seqLengths: lengths });
        // Sequential's entry, as its backward calls it for the layer below.
        const got = ls.backwardLayer(g, { seqLengths: null, inputGrad: true, internal: true })?.data as Float32Array;
        expect(Array.from(got)).toEqual(Array.from(want));
        if (previous) expect(got).toBe(previous);
        previous = got;
      }
    }
  });
});

describe('merge modes', () => {
  for (const mode of ['concat', 'sum', 'mul', 'ave'] as const) {
    it(`${mode}: gradient matches finite differences`, () => {
      const m = new MergeDirections({ mode });
      const x = rand([2, 3, 6]);
      const out = m.forward(x);
      expect(out.shape).toEqual(mode === 'concat' ? [2, 3, 6] : [2, 3, 3]);
      const g = rand([...out.shape]);
      const dx = m.backward(g);
      expectClose(dx.data, numericGrad((t) => new MergeDirections({ mode }).forward(t), x, g));
    });
  }
  it('sum/mul/ave values (hand-checked)', () => {
    const x = tensor([1, 2, 3, 4], [1, 4]);
    expect(Array.from(new MergeDirections({ mode: 'sum' }).forward(x).data)).toEqual([4, 6]);
    expect(Array.from(new MergeDirections({ mode: 'mul' }).forward(x).data)).toEqual([3, 8]);
    expect(Array.from(new MergeDirections({ mode: 'ave' }).forward(x).data)).toEqual([2, 3]);
  });
  it("'none': splitDirections returns both halves", () => {
    const { forward, reverse } = splitDirections(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]));
    expect(Array.from(forward.data)).toEqual([1, 2, 5, 6]);
    expect(Array.from(reverse.data)).toEqual([3, 4, 7, 8]);
  });
  it('odd width is refused', () => expect(() => new MergeDirections({ mode: 'sum' }).forward(rand([2, 3]))).toThrow(/even last axis/));
  it('unknown mode', () => expect(() => new MergeDirections({ mode: 'max' as never })).toThrow(/one of 'concat', 'sum', 'mul', 'ave'/));
});

describe('Sequential', () => {
  const build = () => new Sequential([
    new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }),
    new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 2 }),
    new MergeDirections({ mode: 'sum' }),
    new Linear({ inFeatures: 4, outFeatures: 5, seed: 3 }),
  ]);
  it('names parameters as torch.nn.Sequential does', () => {
    expect(build().parameters().map((p) => p.name)).toEqual([
      '0.weight',
      '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0',
      '1.weight_ih_l0_reverse', '1.weight_hh_l0_reverse', '1.bias_ih_l0_reverse', '1.bias_hh_l0_reverse',
      '3.weight', '3.bias',
    ]);
  });
  it('gradients through the stack match finite differences of its weights', () => {
    const model = build();
    const ids = { data: new Int32Array([0, 4, 2, 1, 3, 3]), shape: [3, 2] };
    const g = rand([3, 2, 5]);
    model.forward(ids, { seqLengths: [3, 2] });
    model.backward(g);
    for (const p of model.parameters()) {
      for (const i of [0, Math.floor(p.data.length / 2), p.data.length - 1]) {
        const v = p.data[i];
        const loss = () => model.forward(ids, { seqLengths: [3, 2] }).data.reduce((s, y, j) => s + y * g.data[j], 0);
        p.data[i] = v + 1e-2;
        const lp = loss();
        p.data[i] = v - 1e-2;
        const lm = loss();
        p.data[i] = v;
        const numeric = (lp - lm) / 2e-2;
        // tanh makes this non-linear: central differences are O(eps^2) accurate.
        expect(Math.abs(p.grad[i] - numeric), `${p.name}[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
  it('async forward/backward give the same bits as sync', async () => {
    const a = build();
    const b = build();
    const ids = { data: new Int32Array([0, 4, 2, 1]), shape: [2, 2] };
    const g = rand([2, 2, 5]);
    const ya = a.forward(ids);
    const yb = await b.forwardAsync(ids);
    expect(yb.data).toEqual(ya.data);
    a.backward(g);
    await b.backwardAsync(g);
    a.parameters().forEach((p, i) => expect(b.parameters()[i].grad).toEqual(p.grad));
  });
  it('loadStateDict with a wrong key changes nothing', () => {
    const model = build();
    const before = model.parameters().map((p) => p.data.slice());
    const sd = { ...model.stateDict(), '9.weight': tensor([1], [1]) };
    expect(() => model.loadStateDict(sd)).toThrow(/unexpected keys: 9.weight/);
    model.parameters().forEach((p, i) => expect(p.data).toEqual(before[i]));
  });
  it('empty layer list', () => expect(() => new Sequential([])).toThrow(TypeError));
});

describe('RnnStream', () => {
  it('stepping one step at a time equals one whole-sequence forward', () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 4 });
    const x = rand([6, 2, 3]);
    const whole = rnn.forward(x);
    const stream = new RnnStream(rnn);
    const steps: number[] = [];
    for (let t = 0; t < 6; t++) steps.push(...stream.step({ data: x.data.slice(t * 6, (t + 1) * 6), shape: [1, 2, 3] }).data);
    const tol = 1e-6;
    steps.forEach((v, i) => expect(Math.abs(v - whole.y.data[i])).toBeLessThan(tol));
    stream.reset();
    expect(stream.state).toBeNull();
  });
  it('refuses a bidirectional model', () => expect(() => new RnnStream(new RNN({ inputSize: 1, hiddenSize: 1, bidirectional: true }))).toThrow(/bidirectional/));
});

describe('RNN dropout', () => {
  const cfg = { inputSize: 3, hiddenSize: 16, numLayers: 3, dropout: 0.5 };
  const x = tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i)), [4, 2, 3]);
  it('is active in training mode only, seeded, and eval equals a dropout-free model', () => {
    const a = new RNN({ ...cfg, seed: 11 });
    const plain = new RNN({ ...cfg, dropout: 0, seed: 11 });
    const yTrain = a.forward(x).y.data.slice();
    expect(yTrain).not.toEqual(plain.forward(x).y.data);
    const b = new RNN({ ...cfg, seed: 11 });
    expect(b.forward(x).y.data).toEqual(yTrain); // same seed, same masks
    a.eval();
    expect(a.forward(x).y.data).toEqual(plain.forward(x).y.data);
  });
  it('backward uses the same mask as forward (gradient of a linear probe matches finite differences)', () => {
    // With the mask fixed, the loss is smooth in x: compare against central
    // differences computed with the same generator state replayed.
    const rnn = new RNN({ ...cfg, seed: 5 });
    const g = tensor(Float32Array.from({ length: 4 * 2 * 16 }, (_, i) => Math.cos(i)), [4, 2, 16]);
    const state = rnn.generator.getState();
    const loss = (t: typeof x) => {
      rnn.generator.setState(state);
      return rnn.forward(t).y.data.reduce((s, v, i) => s + v * g.data[i], 0);
    };
    rnn.generator.setState(state);
    rnn.forward(x);
    const gx = rnn.backward({ gy: g }).gx as typeof x;
    for (const i of [0, 7, 23]) {
      const p = x.data.slice();
      const m = x.data.slice();
      p[i] += 1e-2;
      m[i] -= 1e-2;
      const numeric = (loss({ data: p, shape: x.shape }) - loss({ data: m, shape: x.shape })) / 2e-2;
      expect(Math.abs(gx.data[i] - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
  });
});
