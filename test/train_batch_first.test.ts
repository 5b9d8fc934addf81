// fit, evaluate and predict with batch-first models: each must behave exactly as for the
// time-major twin of the same model (same weights), i.e. the recurrence runs along time,
// never along the batch axis. (Before the fix they fed time-major batches to batch-first
// models: predict differed from model.forward by 0.19-0.31.)
import { describe, expect, it } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import type { SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam } from '../src/optim/index.js';
import { evaluate, fit, predict } from '../src/train/index.js';
import { tensor } from '../src/tensor.js';
import { makeRng } from './helpers/random.js';

const rng = makeRng(9);
const N = 12, T = 7, F = 3, H = 8;

function series(): SequenceDataset {
  const x = tensor(Float32Array.from({ length: N * T * F }, () => rng.normal()), [N, T, F]);
  const y = tensor(Float32Array.from({ length: N * T }, () => rng.normal()), [N, T, 1]);
  return { x, y, seqLengths: Int32Array.from({ length: N }, (_, i) => T - (i % 3)) };
}

/** Largest |a - b| (the two layouts sum rows of a Linear or a loss in another order: float rounding only). */
function gap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function twins(build: (batchFirst: boolean) => Sequential): [Sequential, Sequential] {
  const a = build(false);
  const b = build(true);
  b.loadStateDict(a.stateDict());
  return [a, b];
}

const perStep = (bf: boolean) => new Sequential([
  new RNN({ inputSize: F, hiddenSize: H, numLayers: 2, bidirectional: true, batchFirst: bf, seed: 3 }),
  new Linear({ inFeatures: 2 * H, outFeatures: 1, seed: 4 }),
]);

describe('batch-first models in the training loop', () => {
  it('predict equals model.forward on batch-first input', async () => {
    const m = perStep(true);
    m.eval();
    const x = tensor(Float32Array.from({ length: N * T * F }, () => rng.normal()), [N, T, F]);
    const direct = m.forward(x);
    const p = await predict(m, x, { batchSize: 5 });
    expect(p.shape).toEqual([N, T, 1]);
    let worst = 0;
    p.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - direct.data[i]))));
    expect(worst).toBeLessThan(1e-6);
  });

  it('fit, evaluate and predict match the time-major twin (per-step targets, lengths)', async () => {
    setNumThreads(1);
    const data = series();
    const [tm, bf] = twins(perStep);
    const opts = { epochs: 3, batchSize: 4, loss: 'mse' as const, seed: 5 };
    const ra = await fit(tm, data, { ...opts, optimizer: new Adam(tm.parameters(), { lr: 0.01 }) });
    const rb = await fit(bf, data, { ...opts, optimizer: new Adam(bf.parameters(), { lr: 0.01 }) });
    expect(gap(rb.history.map((h) => h.loss), ra.history.map((h) => h.loss))).toBeLessThan(1e-5);
    const wa = tm.stateDict();
    const wb = bf.stateDict();
    for (const k of Object.keys(wa)) expect(gap(wb[k].data, wa[k].data)).toBeLessThan(1e-5);
    expect((await evaluate(bf, data, { loss: 'mse' })).loss).toBeCloseTo((await evaluate(tm, data, { loss: 'mse' })).loss, 5);
    const pa = await predict(tm, data.x, { seqLengths: data.seqLengths });
    const pb = await predict(bf, data.x, { seqLengths: data.seqLengths });
    expect(gap(pb.data, pa.data)).toBeLessThan(1e-5);
  });

  it('fit matches the twin with truncated BPTT and carried state', async () => {
    setNumThreads(1);
    const data = series();
    const uni = (bf: boolean) => new Sequential([
      new RNN({ inputSize: F, hiddenSize: H, batchFirst: bf, seed: 3 }),
      new Linear({ inFeatures: H, outFeatures: 1, seed: 4 }),
    ]);
    const [tm, bf] = twins(uni);
    const opts = { epochs: 2, batchSize: 4, loss: 'mse' as const, seed: 6, tbptt: 3 };
    const ra = await fit(tm, data, { ...opts, optimizer: new Adam(tm.parameters(), { lr: 0.01 }) });
    const rb = await fit(bf, data, { ...opts, optimizer: new Adam(bf.parameters(), { lr: 0.01 }) });
    expect(rb.history.length).toBe(ra.history.length);
    expect(gap(rb.history.map((h) => h.loss), ra.history.map((h) => h.loss))).toBeLessThan(1e-5);
  });

  it('sequence classification with Embedding and LastStep, batch-first', async () => {
    setNumThreads(1);
    const V = 5, C = 3;
    const x = { data: Int32Array.from({ length: N * T }, () => Math.floor(rng.uniform() * V)), shape: [N, T] };
    const y = { data: Int32Array.from({ length: N }, () => Math.floor(rng.uniform() * C)), shape: [N] };
    const data: SequenceDataset = { x, y, seqLengths: Int32Array.from({ length: N }, (_, i) => 1 + (i % T)) };
    const build = (bf: boolean) => new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 4, seed: 1 }),
      new RNN({ inputSize: 4, hiddenSize: H, bidirectional: true, batchFirst: bf, seed: 2 }),
      new LastStep({ directions: 2, batchFirst: bf }),
      new Linear({ inFeatures: 2 * H, outFeatures: C, seed: 3 }),
    ]);
    const [tm, bf] = twins(build);
    const opts = { epochs: 2, batchSize: 5, loss: 'crossEntropy' as const, seed: 7 };
    const ra = await fit(tm, data, { ...opts, optimizer: new Adam(tm.parameters(), { lr: 0.02 }) });
    const rb = await fit(bf, data, { ...opts, optimizer: new Adam(bf.parameters(), { lr: 0.02 }) });
    // Float rounding only: the two layouts add an Embedding row's gradients in another order
    // (tokens [N, T] against [T, N]), so the losses may part at 1e-9 after a few Adam steps (seen
    // since OpenBLAS runs its SkylakeX kernels here). A recurrence along the batch axis is ~0.1 off.
    expect(gap(rb.history.map((h) => h.loss), ra.history.map((h) => h.loss))).toBeLessThan(1e-6);
    const [eb, et] = [await evaluate(bf, data, { loss: 'crossEntropy' }), await evaluate(tm, data, { loss: 'crossEntropy' })];
    expect(Object.keys(eb)).toEqual(Object.keys(et));
    expect(Math.abs(eb.loss - et.loss)).toBeLessThan(1e-6);
  });

  it('a model whose layers disagree on batchFirst is refused', async () => {
    const m = new Sequential([new RNN({ inputSize: F, hiddenSize: H, batchFirst: true, seed: 1 }), new LastStep({ batchFirst: false })]);
    await expect(predict(m, tensor(new Float32Array(N * T * F), [N, T, F]))).rejects.toThrow(/agree on batchFirst/);
  });
});

describe('fit progress reports the gradient norm', () => {
  it('gradNorm is the pre-clip global norm; clipped says whether clipNorm acted', async () => {
    setNumThreads(1);
    const data = series();
    const build = () => new Sequential([new RNN({ inputSize: F, hiddenSize: H, seed: 3 }), new Linear({ inFeatures: H, outFeatures: 1, seed: 4 })]);
    // The norm of the first step's gradients, by hand: one batch of all N examples, in order.
    const manual = build();
    const m = build();
    const norms: Array<{ gradNorm: number; clipped: boolean }> = [];
    await fit(m, data, {
      epochs: 1, batchSize: N, loss: 'mse', shuffle: false, clipNorm: 1e-3, seed: 1,
      optimizer: new Adam(m.parameters(), { lr: 0.01 }),
      onProgress: (p) => void norms.push({ gradNorm: p.gradNorm, clipped: p.clipped }),
    });
    const { mseLoss } = await import('../src/nn/losses.js');
    const { swapLeading } = await import('../src/train/layout.js');
    const x = swapLeading(data.x as ReturnType<typeof tensor>);
    const out = manual.forward(x, { seqLengths: data.seqLengths });
    const target = swapLeading(data.y as ReturnType<typeof tensor>);
    // Padding past each length does not count: mask it in the target and the output alike.
    for (let t = 0; t < T; t++) for (let b = 0; b < N; b++) if (t >= data.seqLengths![b]) { out.data[t * N + b] = 0; target.data[t * N + b] = 0; }
    const { grad } = mseLoss(out, target);
    // mse over counted positions only: rescale from all T*N to the counted ones.
    const counted = Array.from(data.seqLengths!).reduce((a, b) => a + b, 0);
    for (let i = 0; i < grad.data.length; i++) grad.data[i] *= (T * N) / counted;
    manual.backward(grad);
    let s = 0;
    for (const p of manual.parameters()) for (const g of p.grad) s += g * g;
    expect(norms.length).toBe(1);
    expect(norms[0].clipped).toBe(true);
    expect(Math.abs(norms[0].gradNorm - Math.sqrt(s)) / Math.sqrt(s)).toBeLessThan(1e-4);
    // Without clipNorm nothing is clipped, and the norm is still reported.
    const free = build();
    const seen: Array<{ gradNorm: number; clipped: boolean }> = [];
    await fit(free, data, { epochs: 1, batchSize: 4, loss: 'mse', seed: 1, optimizer: new Adam(free.parameters()), onProgress: (p) => void seen.push(p) });
    expect(seen.length).toBe(3);
    expect(seen.every((p) => !p.clipped && Number.isFinite(p.gradNorm) && p.gradNorm > 0)).toBe(true);
  });
});
