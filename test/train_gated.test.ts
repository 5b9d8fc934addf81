/**
 * fit with LSTM and GRU layers: a batch-first model trains as the same weights in a
 * time-major model (fit feeds each layout its own: before, fit fed a batch-first LSTM or GRU
 * time-major batches, as it only looked at RNN layers), and an LSTM's carried `{ h, c }` state
 * survives a mid-batch TBPTT checkpoint: the resumed run ends bit-identical to a straight one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import type { SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { GRU } from '../src/nn/gru.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import { fit, predict } from '../src/train/index.js';

beforeAll(() => setNumThreads(1));
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-fit-gated-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const V = 4;
function delayTask(N: number, T: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Int32Array(N * T).map(() => rng.int(V));
  const y = new Int32Array(N * T).map((_, i) => (i % T >= 1 ? x[i - 1] : -100));
  return { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
}

const bits = (m: Sequential): number[][] => m.parameters().map((p) => Array.from(new Uint32Array(Float32Array.from(p.data).buffer)));

type Cell = typeof LSTM | typeof GRU;
function model(Cell: Cell, batchFirst: boolean, last = false): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: 5, seed: 1 }),
    new Cell({ inputSize: 5, hiddenSize: 8, batchFirst, seed: 2 }),
    ...(last ? [new LastStep({ batchFirst })] : []),
    new Linear({ inFeatures: 8, outFeatures: V, seed: 3 }),
  ]);
}

describe('fit with gated layers', () => {
  for (const [name, Cell] of [['LSTM', LSTM], ['GRU', GRU]] as const) {
    it(`${name}: batch-first and time-major models train identically`, async () => {
      const d = delayTask(12, 6, 1);
      const run = async (bf: boolean): Promise<{ w: number[]; losses: number[]; out: number[] }> => {
        const m = model(Cell, bf);
        const r = await fit(m, d, { epochs: 2, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 3, tbptt: 4 });
        return { w: m.parameters().flatMap((p) => Array.from(p.data)), losses: r.history.map((h) => h.loss), out: Array.from((await predict(m, d.x)).data) };
      };
      const tm = await run(false);
      const bf = await run(true);
      // The first step is bit-identical; the gated kernels sum the batch-first weight
      // gradients in another order, so later steps differ in float32 rounding only.
      expect(bf.losses[0]).toBe(tm.losses[0]);
      bf.losses.forEach((l, i) => expect(Math.abs(l - tm.losses[i])).toBeLessThan(1e-6));
      bf.w.forEach((w, i) => expect(Math.abs(w - tm.w[i])).toBeLessThan(1e-5));
      bf.out.forEach((o, i) => expect(Math.abs(o - tm.out[i])).toBeLessThan(1e-5));
    });
  }

  it('LSTM ending in a batch-first LastStep: per-sequence targets', async () => {
    const d = delayTask(12, 6, 2);
    const seq: SequenceDataset = { x: d.x, y: { data: Int32Array.from({ length: 12 }, (_, n) => d.x.data[n * 6 + 5]), shape: [12] } };
    const run = async (bf: boolean): Promise<number[]> => {
      const m = model(LSTM, bf, true);
      const r = await fit(m, seq, { epochs: 2, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 3 });
      return r.history.map((h) => h.loss);
    };
    const tm = await run(false);
    const bf = await run(true);
    expect(bf[0]).toBe(tm[0]);
    bf.forEach((l, i) => expect(Math.abs(l - tm[i])).toBeLessThan(1e-6));
  });

  it('LSTM under TBPTT: a checkpoint between chunks carries { h, c } and resumes bit for bit', async () => {
    const d = delayTask(8, 9, 4);
    const opts = { epochs: 2, batchSize: 4, loss: 'crossEntropy', seed: 5, tbptt: 3 } as const;
    const a = model(LSTM, false);
    const ra = await fit(a, d, { ...opts, optimizer: new Adam(a.parameters(), { lr: 0.01 }) });
    const path = join(dir, 'lstm.ckpt');
    const b = model(LSTM, false);
    const rb = await fit(b, d, { ...opts, steps: 4, optimizer: new Adam(b.parameters(), { lr: 0.01 }), checkpoint: { path, every: 100 } }); // step 4: chunk 1 of batch 2
    const c = model(LSTM, false);
    const rc = await fit(c, d, { ...opts, optimizer: new Adam(c.parameters(), { lr: 0.01 }), resumeFrom: path });
    expect([...rb.history, ...rc.history]).toEqual(ra.history);
    expect(bits(c)).toEqual(bits(a));
  });
});
