// The AVX-512 weight-gradient kernel (native/tall_gemm.h: C = beta C + A^T B with a multiple
// of 32 columns and a long inner dimension) against float64 sums, through native.sgemm on the
// shapes it takes (8-row tile remainders, K not a multiple of its 64-row chunks, strided
// operands, every beta) and the neighbours it must leave to OpenBLAS; then whole layers whose
// dW_ih and dW_hh take it (Elman, LSTM, GRU at H = 32 and 64) against the float64 reference,
// with "auto" (the kernel) and "blas" (OpenBLAS throughout).
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { rnnConfig, rnnParameterShapes, type RnnMode } from '../src/nn/rnn_config.js';
import { rnnBackward, rnnForward } from '../src/nn/rnn_functional.js';
import { referenceGatedBackward, referenceGatedForward } from '../src/reference/gated_reference.js';
import { referenceRnnBackward, referenceRnnForward } from '../src/reference/rnn_reference.js';
import type { Tensor } from '../src/tensor.js';
import { makeRng, type Rng } from './helpers/random.js';
import { supported } from './helpers/step_kernels.js';
import { maxRelError } from './helpers/torch_fixtures.js';

// Without AVX-512 the kernel never runs: "auto" is OpenBLAS too, and the tests still hold.
const avx512 = supported('avx512');

const threadsBefore = getNumThreads();
afterAll(() => {
  native.setStepKernel('auto');
  setNumThreads(threadsBefore);
});

const f32 = (n: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.normal());

interface Gemm { M: number; N: number; K: number; lda: number; ldb: number; ldc: number; beta: number }

/**
 * Runs C = beta C + A^T B natively and returns the worst error of an element relative to the sum
 * of its terms' magnitudes (beta C included). A float32 chain of K fused multiply-adds is off by
 * ~sqrt(K) 6e-8 of that sum; one term missing, doubled or from the wrong row or column is
 * ~1/K of it (>= 1.2e-4 at these K).
 */
function gemmError(g: Gemm, seed: number): number {
  const rng = makeRng(seed);
  const A = f32(g.K * g.lda, rng);
  const B = f32(g.K * g.ldb, rng);
  const C0 = f32(g.M * g.ldc, rng);
  if (g.beta === 0) C0.fill(Number.NaN); // beta 0 overwrites C: a NaN there must not survive
  const C = C0.slice();
  native.sgemm(true, false, g.M, g.N, g.K, 1, A, g.lda, B, g.ldb, g.beta, C, g.ldc);
  let worst = 0;
  for (let i = 0; i < g.M; i++) {
    for (let j = 0; j < g.ldc; j++) {
      const at = i * g.ldc + j;
      if (j >= g.N) {
        // Padding columns of C are not C's: untouched.
        if (!Object.is(C[at], C0[at])) return Infinity;
        continue;
      }
      const c0 = g.beta === 0 ? 0 : g.beta * C0[at];
      let sum = c0;
      let mag = Math.abs(c0);
      for (let k = 0; k < g.K; k++) {
        const term = A[k * g.lda + i] * B[k * g.ldb + j];
        sum += term;
        mag += Math.abs(term);
      }
      const err = Math.abs(C[at] - sum) / mag;
      if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
    }
  }
  return worst;
}

// Every shape: [M, N, K]; those marked "kernel" are tall_gemm_applies' (N a multiple of 32 up
// to 512, M <= 768, K >= 2 max(M, N)), the others its edges, which OpenBLAS keeps.
// The fifth entry, when present, lists the betas to try (the slowest shapes to check take one).
const SHAPES: Array<[number, number, number, string, number[]?]> = [
  [1, 32, 128, 'kernel: one row'],
  [7, 32, 200, 'kernel: a partial 8-row tile'],
  [8, 64, 256, 'kernel: one whole tile per strip'],
  [9, 32, 1000, 'kernel: a whole tile and a 1-row one'],
  [32, 32, 1280, 'kernel: dW_hh at H = 32, K a multiple of 128'],
  [33, 64, 301, 'kernel: K ends in a 45-row chunk'],
  [64, 64, 1337, 'kernel: the F1 dW_hh shape, K odd'],
  [100, 32, 400, 'kernel: 12 whole tiles and a 4-row one'],
  [256, 64, 1024, 'kernel: the LSTM dW_hh at H = 64 (M = 4H)'],
  [40, 96, 200, 'kernel: three strips, K = 2 max(M, N)'],
  [257, 64, 600, 'kernel: 32 whole tiles and a 1-row one'],
  [24, 512, 1100, 'kernel: the widest B (16 strips)'],
  [768, 32, 1536, 'kernel: the tallest A^T', [0.5]],
  [769, 32, 1600, 'OpenBLAS: M past the kernel', [0.5]],
  [8, 544, 1100, 'OpenBLAS: N past the kernel'],
  [64, 48, 1000, 'OpenBLAS: N not a multiple of 32'],
  [64, 64, 127, 'OpenBLAS: K below 2 max(M, N)'],
];

describe('the weight-gradient kernel through native.sgemm', () => {
  for (const [M, N, K, what, betas] of SHAPES) {
    for (const beta of betas ?? [0, 1, 0.5]) {
      it(`${what} (M ${M}, N ${N}, K ${K}, beta ${beta}): float64 sums on 1 and 2 threads, "auto" and "blas"`, () => {
        for (const kernel of avx512 ? (['auto', 'blas'] as const) : (['auto'] as const)) {
          native.setStepKernel(kernel);
          for (const threads of [1, 2]) {
            setNumThreads(threads);
            const dense = gemmError({ M, N, K, lda: M, ldb: N, ldc: N, beta }, M * 7 + N + K);
            const strided = gemmError({ M, N, K, lda: M + 3, ldb: N + 5, ldc: N + 2, beta }, M + K);
            expect(dense, `${kernel}, ${threads} thread(s), dense`).toBeLessThan(2e-6);
            expect(strided, `${kernel}, ${threads} thread(s), strided`).toBeLessThan(2e-6);
          }
        }
        native.setStepKernel('auto');
      });
    }
  }

  it('gives the same bits on every call at a fixed thread count', () => {
    setNumThreads(2);
    const rng = makeRng(5);
    const [M, N, K] = [64, 64, 12800];
    const A = f32(K * M, rng);
    const B = f32(K * N, rng);
    const first = new Float32Array(M * N);
    native.sgemm(true, false, M, N, K, 1, A, M, B, N, 0, first, N);
    for (let r = 0; r < 5; r++) {
      const again = new Float32Array(M * N).fill(Number.NaN);
      native.sgemm(true, false, M, N, K, 1, A, M, B, N, 0, again, N);
      expect(Buffer.from(again.buffer).equals(Buffer.from(first.buffer))).toBe(true);
    }
  });
});

interface LayerCase { mode: RnnMode; I: number; H: number; T: number; B: number; bidirectional: boolean }

// T*B rows >= 2 G*H: dW_hh ([G*H, H]) and dW_ih ([G*H, I], I = 32 or 96) take the kernel.
const LAYERS: LayerCase[] = [
  { mode: 'RNN', I: 96, H: 128, T: 10, B: 26, bidirectional: false },
  { mode: 'RNN', I: 32, H: 64, T: 16, B: 20, bidirectional: true },
  { mode: 'RNN', I: 32, H: 32, T: 12, B: 12, bidirectional: false },
  { mode: 'LSTM', I: 32, H: 64, T: 32, B: 32, bidirectional: false },
  { mode: 'GRU', I: 32, H: 32, T: 16, B: 24, bidirectional: true },
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('layers whose weight gradients take the kernel match the float64 reference', () => {
  for (const c of LAYERS) {
    for (const kernel of ['auto', 'blas'] as const) {
      it(`${c.mode} T${c.T} B${c.B} I${c.I} H${c.H}${c.bidirectional ? ' bi' : ''}, "${kernel}"`, () => {
        native.setStepKernel(kernel);
        setNumThreads(2);
        const rng = makeRng(c.H * 31 + c.T);
        const options = { inputSize: c.I, hiddenSize: c.H, numLayers: 1, bias: true, bidirectional: c.bidirectional, batchFirst: false };
        const cfg = rnnConfig(options, c.mode);
        const k = 1 / Math.sqrt(c.H);
        const weights: Record<string, Tensor> = Object.fromEntries(rnnParameterShapes(cfg).map(([name, shape]) =>
          [name, { data: Float32Array.from({ length: size(shape) }, () => (rng.uniform() * 2 - 1) * k), shape }]));
        const D = c.bidirectional ? 2 : 1;
        const state = [D, c.B, c.H];
        const x: Tensor = { data: f32(c.T * c.B * c.I, rng), shape: [c.T, c.B, c.I] };
        const gy: Tensor = { data: f32(c.T * c.B * D * c.H, rng), shape: [c.T, c.B, D * c.H] };
        const ghN: Tensor = { data: f32(size(state), rng), shape: state };
        const gcN: Tensor | undefined = c.mode === 'LSTM' ? { data: f32(size(state), rng), shape: state } : undefined;
        const fwd = rnnForward(cfg, weights, x, {});
        const grads = Object.fromEntries(rnnParameterShapes(cfg).map(([name, shape]) => [name, new Float32Array(size(shape))]));
        const back = rnnBackward(fwd.tape, { gy, ghN, gcN }, grads);

        const w64 = Object.fromEntries(Object.entries(weights).map(([name, v]) => [name, Float64Array.from(v.data)]));
        const d = (t: Tensor) => Float64Array.from(t.data);
        let ref: { gx: Float64Array; grads: Record<string, Float64Array> };
        if (c.mode === 'RNN') {
          const refCfg = { ...options, nonlinearity: 'tanh' as const };
          const f = referenceRnnForward(refCfg, w64, d(x), c.T, c.B, null, null);
          ref = referenceRnnBackward(refCfg, w64, f.cache, d(gy), d(ghN));
        } else {
          const f = referenceGatedForward({ ...options, mode: c.mode }, w64, d(x), c.T, c.B, {});
          ref = referenceGatedBackward(f.cache, { gy: d(gy), ghN: d(ghN), gcN: gcN ? d(gcN) : null });
        }
        // float32 sums over T*B = 144..1024 rows: measured ~1e-6; a wrong row or column is 1e-2+.
        expect(maxRelError(back.gx!.data, ref.gx), 'gx').toBeLessThan(2e-5);
        for (const name of Object.keys(weights)) expect(maxRelError(grads[name], ref.grads[name]), name).toBeLessThan(2e-5);
      });
    }
  }
});
