// fit's training step as ONE native job (Sequential.forwardQueued): the Embedding's lookup, the
// recurrent layers, the head's GEMMs, the loss and the whole backward are queued and run as one
// pool call. It must give exactly the bits of the per-pass path (forwardAsync, the loss on the main
// thread, backwardAsync): same kernels, same order, same thread partition. Models it cannot queue
// (dropout between layers, LastStep, batch-first) take the per-pass path.
import { afterEach, describe, expect, it } from 'vitest';
import { Adam, Embedding, evaluate, fit, GRU, LastStep, Linear, LSTM, RNN, Sequential, type SequenceDataset } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { makeRng } from './helpers/random.js';

const original = native.layersAsync;
let jobs: Array<{ calls: number; ops: string[] }> = [];
native.layersAsync = (calls) => {
  jobs.push({ calls: calls.length, ops: calls.map((c) => ('op' in c ? c.op : c.backward ? 'backward' : 'forward')) });
  return original(calls);
};
afterEach(() => {
  jobs = [];
});

type Cell = typeof RNN | typeof LSTM | typeof GRU;
const V = 7;

function idsData(N: number, T: number, seed: number, lengths: boolean): SequenceDataset {
  const rng = makeRng(seed);
  const x = Int32Array.from({ length: N * T }, () => Math.floor(rng.uniform() * V));
  const y = Int32Array.from({ length: N * T }, (_, i) => (x[i] + 1) % V);
  if (lengths) y[5] = -100;  // an ignored target too
  const seqLengths = lengths ? Int32Array.from({ length: N }, (_, n) => 1 + ((n * 5) % T)) : undefined;
  return seqLengths ? { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] }, seqLengths } : { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
}

function valuesData(N: number, T: number, F: number, C: number, seed: number): SequenceDataset {
  const rng = makeRng(seed);
  return {
    x: { data: Float32Array.from({ length: N * T * F }, () => rng.normal()), shape: [N, T, F] },
    y: { data: Float32Array.from({ length: N * T * C }, () => rng.normal()), shape: [N, T, C] },
    seqLengths: Int32Array.from({ length: N }, (_, n) => T - (n % 3)),
  };
}

const perPass = (m: Sequential): Sequential => {
  // The per-pass path: what fit did before (and does for models it cannot queue).
  (m as unknown as { forwardQueued: () => Promise<null> }).forwardQueued = async () => null;
  return m;
};

async function train(m: Sequential, data: SequenceDataset, extra: Record<string, unknown>) {
  return fit(m, data, { epochs: 2, batchSize: 4, seed: 3, optimizer: new Adam(m.parameters(), { lr: 1e-2 }), clipNorm: 1, ...extra } as unknown as Parameters<typeof fit>[2]);
}

function expectSameParams(a: Sequential, b: Sequential): void {
  const pa = a.parameters(), pb = b.parameters();
  pa.forEach((p, i) => {
    expect(Array.from(p.data), p.name).toEqual(Array.from(pb[i].data));
  });
}

describe('a training step as one native job', () => {
  const cells: Cell[] = [RNN, LSTM, GRU];
  for (const cls of cells) {
    it(`${cls.name}: Embedding → 2 layers → Linear, cross-entropy with padding and ignored targets: the per-pass bits, one job per step`, async () => {
      const make = () => new Sequential([
        new Embedding({ numEmbeddings: V, embeddingDim: 5, seed: 1 }),
        new cls({ inputSize: 5, hiddenSize: 12, numLayers: 2, seed: 2 }),
        new Linear({ inFeatures: 12, outFeatures: V, seed: 3 }),
      ]);
      const data = idsData(10, 9, 4, true);
      const a = make();
      const ra = await train(a, data, { loss: 'crossEntropy', metrics: ['accuracy'] });
      const steps = ra.history.length;
      expect(jobs.length).toBe(steps);
      // The lookup, RNN forward ×2, Linear forward, the loss, Linear backward (dW, db, dx), RNN
      // backward ×2, the lookup's gradient.
      expect(jobs[0].ops).toEqual(['embeddingForward', 'forward', 'forward', 'sgemm', 'softmaxCrossEntropy', 'sgemm', 'sgemm', 'sgemm', 'backward', 'backward', 'embeddingBackward']);
      const b = perPass(make());
      const rb = await train(b, data, { loss: 'crossEntropy', metrics: ['accuracy'] });
      expect(ra.history).toEqual(rb.history);
      expectSameParams(a, b);
    });
  }

  it('a reset-before GRU (resetAfter: false), relu RNN and bias-free layers: the per-pass bits', async () => {
    const makes = [
      () => new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: 5, seed: 1 }), new GRU({ inputSize: 5, hiddenSize: 12, numLayers: 2, resetAfter: false, seed: 2 }), new Linear({ inFeatures: 12, outFeatures: V, seed: 3 })]),
      () => new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: 5, seed: 1 }), new RNN({ inputSize: 5, hiddenSize: 12, nonlinearity: 'relu', bias: false, seed: 2 }), new Linear({ inFeatures: 12, outFeatures: V, bias: false, seed: 3 })]),
    ];
    const data = idsData(10, 9, 4, true);
    for (const make of makes) {
      const a = make(), b = perPass(make());
      const ra = await train(a, data, { loss: 'crossEntropy' });
      expect(jobs.length).toBe(ra.history.length);
      const rb = await train(b, data, { loss: 'crossEntropy' });
      expect(ra.history).toEqual(rb.history);
      expectSameParams(a, b);
      jobs = [];
    }
  });

  it('regressors (MSE per step, lengths): a bidirectional GRU, and a 2-layer LSTM with truncated BPTT and carried states', async () => {
    const cases: Array<[() => Sequential, Record<string, unknown>]> = [
      [() => new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, bidirectional: true, seed: 5 }), new Linear({ inFeatures: 12, outFeatures: 2, seed: 6 })]), {}],
      [() => new Sequential([new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, seed: 5 }), new Linear({ inFeatures: 6, outFeatures: 2, seed: 6 })]), { tbptt: 4, carryState: true }],
    ];
    const data = valuesData(8, 11, 3, 2, 9);
    for (const [make, extra] of cases) {
      const a = make(), b = perPass(make());
      const ra = await train(a, data, { loss: 'mse', metrics: ['mae'], ...extra });
      expect(jobs.length).toBe(ra.history.length);
      expect(jobs.every((j) => j.ops.includes('squaredError'))).toBe(true);
      const rb = await train(b, data, { loss: 'mse', metrics: ['mae'], ...extra });
      expect(ra.history).toEqual(rb.history);
      expectSameParams(a, b);
      jobs = [];
    }
  });

  it('models it cannot queue train on the per-pass path (dropout between layers, LastStep)', async () => {
    const dropout = new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 4, seed: 1 }),
      new LSTM({ inputSize: 4, hiddenSize: 8, numLayers: 2, dropout: 0.3, seed: 2 }),
      new Linear({ inFeatures: 8, outFeatures: V, seed: 3 }),
    ]);
    await train(dropout, idsData(8, 6, 2, false), { loss: 'crossEntropy', steps: 2 });
    expect(jobs.some((j) => j.ops.includes('softmaxCrossEntropy'))).toBe(false);
    const last = new Sequential([new RNN({ inputSize: 3, hiddenSize: 5, seed: 1 }), new LastStep(), new Linear({ inFeatures: 5, outFeatures: 1, seed: 2 })]);
    const rng = makeRng(1);
    const seq: SequenceDataset = { x: { data: Float32Array.from({ length: 8 * 6 * 3 }, () => rng.normal()), shape: [8, 6, 3] }, y: { data: new Float32Array(8), shape: [8, 1] } };
    await train(last, seq, { loss: 'mse', steps: 2 });
    expect(jobs.some((j) => j.ops.includes('squaredError'))).toBe(false);
  });

  it('the recurrent layer is busy until the job settles; a failed step leaves nothing busy', async () => {
    const rnn = new RNN({ inputSize: 4, hiddenSize: 64, seed: 2 });
    const m = new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: 4, seed: 1 }), rnn, new Linear({ inFeatures: 64, outFeatures: V, seed: 3 })]);
    const x = { data: new Int32Array(200 * 2).fill(1), shape: [200, 2] };
    const q = await m.forwardQueued(x);
    expect(q).not.toBeNull();
    expect(() => rnn.forward({ data: new Float32Array(4), shape: [1, 1, 4] })).toThrow(/busy/);
    const done = q?.finish({ data: new Float32Array(200 * 2 * V).fill(0.01), shape: [200, 2, V] });
    expect(() => rnn.forward({ data: new Float32Array(4), shape: [1, 1, 4] })).toThrow(/busy/);
    await done;
    expect(rnn.forward({ data: new Float32Array(4), shape: [1, 1, 4] }).y.shape).toEqual([1, 1, 64]);
    // A target outside 0..V-1 fails while the loss is queued: nothing runs, nothing stays busy.
    const bad = idsData(4, 5, 1, false);
    (bad.y.data as Int32Array)[3] = V;
    await expect(train(m, bad, { loss: 'crossEntropy', steps: 1 })).rejects.toThrow(/targets\[\d+\]/);
    expect(rnn.forward({ data: new Float32Array(4), shape: [1, 1, 4] }).y.shape).toEqual([1, 1, 64]);
  });

  it('evaluate: the forward and the loss as one job per batch or chunk, the per-pass results exactly', async () => {
    const classifier = () => new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 5, seed: 1 }),
      new LSTM({ inputSize: 5, hiddenSize: 10, numLayers: 2, dropout: 0.5, seed: 2 }),
      new Linear({ inFeatures: 10, outFeatures: V, seed: 3 }),
    ]);
    const ids = idsData(10, 9, 4, true);
    for (const extra of [{}, { tbptt: 4 }]) {
      const a = await evaluate(classifier(), ids, { loss: 'crossEntropy', batchSize: 4, ...extra });
      // Dropout is off in evaluation: the 2-layer LSTM queues; 3 batches (of up to 3 chunks with
      // tbptt: a batch is cut at its longest sequence).
      if ('tbptt' in extra) expect(jobs.length).toBeGreaterThan(3);
      else expect(jobs.length).toBe(3);
      expect(jobs.every((j) => j.ops.includes('softmaxCrossEntropy') && !j.ops.includes('backward'))).toBe(true);
      const b = await evaluate(perPass(classifier()), ids, { loss: 'crossEntropy', batchSize: 4, ...extra });
      expect(a).toEqual(b);
      expect(a.accuracy).toBeGreaterThan(0);
      jobs = [];
    }
    const regressor = () => new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, bidirectional: true, seed: 5 }), new Linear({ inFeatures: 12, outFeatures: 2, seed: 6 })]);
    const values = valuesData(8, 11, 3, 2, 9);
    const a = await evaluate(regressor(), values, { loss: 'mse', batchSize: 3, metrics: ['mae'] });
    expect(jobs.length).toBe(3);
    const b = await evaluate(perPass(regressor()), values, { loss: 'mse', batchSize: 3, metrics: ['mae'] });
    expect(a).toEqual(b);
  });

  it('a step queued with noGrad refuses a backward and leaves nothing busy', async () => {
    const rnn = new GRU({ inputSize: 4, hiddenSize: 8, seed: 2 });
    const m = new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: 4, seed: 1 }), rnn, new Linear({ inFeatures: 8, outFeatures: V, seed: 3 })]);
    const q = await m.forwardQueued({ data: new Int32Array(6).fill(2), shape: [3, 2] }, { noGrad: true });
    await expect(q?.finish({ data: new Float32Array(3 * 2 * V), shape: [3, 2, V] })).rejects.toThrow(/noGrad/);
    expect(rnn.forward({ data: new Float32Array(4), shape: [1, 1, 4] }).y.shape).toEqual([1, 1, 8]);
  });

  it("a job's ops are checked before any call runs (op name, sizes, targets, the loss slot)", () => {
    const y0 = new Float32Array(6).fill(7);
    const gemm = (C: Float32Array) => ({ op: 'sgemm' as const, transA: false, transB: false, M: 2, N: 3, K: 1, alpha: 1, A: new Float32Array(2), lda: 1, B: new Float32Array(3), ldb: 3, beta: 0, C, ldc: 3 });
    const ce = (targets: Int32Array, loss?: Float64Array) => ({ op: 'softmaxCrossEntropy' as const, logits: new Float32Array(6), targets, mask: null, N: 2, C: 3, ignoreIndex: -100, scale: 1, grad: new Float32Array(6), loss: loss as Float64Array });
    expect(() => original([gemm(y0), gemm(new Float32Array(5))])).toThrow(/layersAsync\[1\]\.C has 5 elements/);
    expect(() => original([gemm(y0), ce(new Int32Array([0, 3]), new Float64Array(1))])).toThrow(/layersAsync\[1\]\.targets\[1\] is 3, expected 0\.\.2/);
    expect(() => original([gemm(y0), ce(new Int32Array([0, 1]))])).toThrow(/Float64Array for layersAsync\[1\]\.loss/);
    expect(() => original([gemm(y0), ce(new Int32Array([0, 1]), new Float64Array(2))])).toThrow(/loss has 2 elements/);
    expect(() => original([{ ...gemm(y0), op: 'axpy' as 'sgemm' }])).toThrow(TypeError);
    const table = new Float32Array(4 * 2);
    expect(() => original([gemm(y0), { op: 'embeddingForward', ids: new Int32Array([0, 4]), weight: table, out: new Float32Array(4), V: 4, E: 2 }])).toThrow(/layersAsync\[1\]\.ids\[1\] is 4, expected 0\.\.3/);
    expect(() => original([gemm(y0), { op: 'embeddingForward', ids: new Int32Array([0, 3]), weight: table, out: new Float32Array(3), V: 4, E: 2 }])).toThrow(/out has 3 elements, expected 4/);
    expect(() => original([gemm(y0), { op: 'embeddingBackward', ids: new Int32Array([-1]), gy: new Float32Array(2), grad: table, V: 4, E: 2 }])).toThrow(/ids\[0\] is -1/);
    expect(() => original([gemm(y0), { op: 'embeddingBackward', ids: new Int32Array([1]), gy: new Float32Array(2), grad: new Float32Array(7), V: 4, E: 2 }])).toThrow(/grad has 7 elements, expected 8/);
    expect(Array.from(y0)).toEqual([7, 7, 7, 7, 7, 7]);
  });
});
