// A step's product split by batch rows (B >= 8 rows per task and a W_hh whose packed
// panels fit in 1 MB: each task then reads only the rows of h(t-1) it wrote) against the same
// call on one thread. Every output element is the same k-ordered dot product whichever rows a
// task owns, so the results must be equal bit for bit: a task computing the wrong rows, missing
// panels (packed before the job), or reading another task's rows shows as a difference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, blasInfo, getNumThreads, setNumThreads, tensor, type Tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { KERNELS, supported } from './helpers/step_kernels.js';
import { makeRng } from './helpers/random.js';

interface Case { T: number; B: number; I: number; H: number; cell: 0 | 1 | 2; lengths: boolean; h0: boolean; reverse: boolean }

// B from 16 (8 rows a task) to 65 (an odd split), H with partial 32-column panels. T above 16
// puts several steps in a phase (the loop has 16 phases when split by rows): T=37 and 50 leave a
// short last phase.
const CASES: Case[] = [
  { T: 50, B: 32, I: 3, H: 64, cell: 0, lengths: true, h0: true, reverse: false },
  { T: 37, B: 24, I: 5, H: 48, cell: 1, lengths: true, h0: true, reverse: true },
  { T: 41, B: 16, I: 2, H: 32, cell: 2, lengths: false, h0: true, reverse: false },
  { T: 20, B: 32, I: 17, H: 100, cell: 0, lengths: false, h0: true, reverse: false },
  { T: 15, B: 48, I: 16, H: 160, cell: 0, lengths: true, h0: false, reverse: true },
  { T: 12, B: 40, I: 9, H: 64, cell: 1, lengths: true, h0: true, reverse: false },
  { T: 30, B: 65, I: 33, H: 128, cell: 1, lengths: false, h0: false, reverse: true },
  { T: 9, B: 17, I: 5, H: 96, cell: 2, lengths: true, h0: true, reverse: true },
  { T: 7, B: 16, I: 8, H: 200, cell: 2, lengths: false, h0: true, reverse: false },
];

const gates = (cell: number): number => (cell === 1 ? 4 : cell === 0 ? 1 : 3);

function forward(c: Case, threads: number, store: boolean, seed: number): Float32Array[] {
  const { T, B, I, H, cell } = c;
  const G = gates(cell);
  const rng = makeRng(seed);
  const f = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const x = f(T * B * I, 1), wIh = f(G * H * I, 0.2), wHh = f(G * H * H, 0.2), bIh = f(G * H, 0.1), bHh = f(G * H, 0.1);
  const h0 = c.h0 ? f(B * H, 0.5) : null, c0 = c.h0 && cell === 1 ? f(B * H, 0.5) : null;
  const lengths = c.lengths ? Int32Array.from({ length: B }, (_, b) => 1 + ((b * 7) % T)).sort((a, b) => b - a) : null;
  const y = new Float32Array(T * B * H), hN = new Float32Array(B * H), cN = new Float32Array(B * H);
  setNumThreads(threads);
  native.forwardLayer([{
    x, h0, c0, wIh, wHh, bIh, bHh, lengths, y, hN,
    gates: store && cell !== 0 ? new Float32Array(T * B * 4 * H) : null,
    cells: store && cell === 1 ? new Float32Array(T * B * H) : null,
    cN: cell === 1 ? cN : null, T, B, I, H, ld: H, cell, act: 0, reverse: c.reverse,
  }] as never);
  return cell === 1 ? [y, hN, cN] : [y, hN];
}

describe.skipIf(blasInfo().availableCpus < 2)('forward steps split by batch rows', () => {
  const threads = getNumThreads();
  beforeAll(() => native.setSoloThresholds(0, 0)); // every call and step on the team
  afterAll(() => {
    native.setSoloThresholds(2 ** 26, 2 ** 19);
    native.setStepKernel('auto');
    setNumThreads(threads);
  });
  for (const kernel of KERNELS.filter((k) => k !== 'blas')) {
    for (const [i, c] of CASES.entries()) {
      for (const store of [true, false]) {
        const name = `${kernel}: T${c.T} B${c.B} I${c.I} H${c.H} cell ${c.cell}${c.lengths ? ' lengths' : ''}${c.h0 ? ' h0' : ''}${c.reverse ? ' reverse' : ''}${store ? '' : ' noGrad'}`;
        it.skipIf(!supported(kernel))(name, () => {
          native.setStepKernel(kernel);
          const one = forward(c, 1, store, 100 + i);
          const two = forward(c, 2, store, 100 + i);
          for (let k = 0; k < one.length; k++) {
            let differ = 0;
            for (let j = 0; j < one[k].length; j++) if (!Object.is(one[k][j], two[k][j])) differ++;
            expect(differ, `output ${k}`).toBe(0);
          }
          expect(one[0].some((v) => v !== 0)).toBe(true);
        });
      }
    }
  }
});

// BPTT split by rows: dh0/dc0 and the bias
// gradients (summed after the loop in the loop's order) equal the 1-thread ones bit for bit; the
// input and weight gradients come from whole-sequence GEMMs that OpenBLAS runs differently per
// share at 2 threads, so they agree to float rounding only.
describe.skipIf(blasInfo().availableCpus < 2)('BPTT split by batch rows', () => {
  const threads = getNumThreads();
  beforeAll(() => native.setSoloThresholds(0, 0));
  afterAll(() => {
    native.setSoloThresholds(2 ** 26, 2 ** 19);
    setNumThreads(threads);
  });
  // T=47 and 33: phases of 3 steps, with dh0 the loop's T+1 steps end on a short phase.
  const cases = [
    { kind: 'rnn', T: 47, B: 32, I: 3, H: 64, lengths: true },
    { kind: 'lstm', T: 33, B: 16, I: 4, H: 40, lengths: false },
    { kind: 'gru', T: 47, B: 24, I: 2, H: 32, lengths: true },
    { kind: 'rnn', T: 20, B: 32, I: 17, H: 100, lengths: false },
    { kind: 'rnn', T: 11, B: 41, I: 6, H: 72, lengths: true },
    { kind: 'lstm', T: 12, B: 40, I: 9, H: 64, lengths: true },
    { kind: 'lstm', T: 9, B: 16, I: 20, H: 150, lengths: false },
    { kind: 'gru', T: 10, B: 24, I: 7, H: 96, lengths: true },
    { kind: 'gru', T: 13, B: 33, I: 12, H: 140, lengths: false },
  ] as const;
  for (const c of cases) {
    it(`${c.kind} T${c.T} B${c.B} I${c.I} H${c.H}${c.lengths ? ' lengths' : ''}`, () => {
      const run = (n: number): { exact: Float32Array[]; weights: Float32Array[] } => {
        setNumThreads(n);
        const opts = { inputSize: c.I, hiddenSize: c.H, seed: 5 };
        const m = c.kind === 'rnn' ? new RNN(opts) : c.kind === 'lstm' ? new LSTM(opts) : new GRU(opts);
        const rng = makeRng(9);
        const f = (k: number): Float32Array => Float32Array.from({ length: k }, () => rng.uniform() * 2 - 1);
        const x = tensor(f(c.T * c.B * c.I), [c.T, c.B, c.I]);
        const h0 = tensor(f(c.B * c.H), [1, c.B, c.H]);
        const c0 = tensor(f(c.B * c.H), [1, c.B, c.H]);
        const seqLengths = c.lengths ? Array.from({ length: c.B }, (_, b) => 1 + ((b * 5) % c.T)).sort((a, b) => b - a) : undefined;
        if (m instanceof LSTM) m.forward(x, { h0, c0, seqLengths });
        else m.forward(x, { h0, seqLengths });
        const gy = tensor(f(c.T * c.B * c.H), [c.T, c.B, c.H]);
        const r = m.backward({ gy }) as { gx: Tensor; gh0: Tensor; gc0?: Tensor };
        const g = m.gradStateDict() as Record<string, Tensor>;
        const exact = [r.gh0.data, ...(r.gc0 ? [r.gc0.data] : []), g.bias_ih_l0.data, g.bias_hh_l0.data] as Float32Array[];
        return { exact, weights: [r.gx.data, g.weight_ih_l0.data, g.weight_hh_l0.data] as Float32Array[] };
      };
      const one = run(1), two = run(2);
      for (const [k, a] of one.exact.entries()) {
        let differ = 0;
        for (let j = 0; j < a.length; j++) if (!Object.is(a[j], two.exact[k][j])) differ++;
        expect(differ, `exact output ${k}`).toBe(0);
      }
      for (const [k, a] of one.weights.entries()) {
        // float32 sums of up to T*B terms in another order: ~1e-6 of the largest entry.
        let worst = 0, scale = 1e-30;
        for (let j = 0; j < a.length; j++) {
          worst = Math.max(worst, Math.abs(a[j] - two.weights[k][j]));
          scale = Math.max(scale, Math.abs(a[j]));
        }
        expect(worst / scale, `GEMM-made gradient ${k}`).toBeLessThan(2e-5);
      }
    });
  }
});

