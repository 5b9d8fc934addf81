/**
 * `rnnblas demo gradients`: the result line's shape, vanishing for tanh and
 * ReLU (and, more slowly, PyTorch's LSTM), kept for IRNN (and an LSTM with a
 * forget-gate bias), exploding for a gain > 1 and what clipping
 * does to it, the SVG, and the probe against a restart-based computation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './helpers/cli.js';
import { expectWellFormedSvg } from './helpers/svg.js';
import { gradientCurves, gradientsSvg, irnn } from '../src/cli/demo_gradients.js';
import { RNN } from '../src/nn/rnn.js';
import { Rng } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-demo-gradients-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * ‖∂L/∂h_t‖ of a single-layer unidirectional Elman RNN by restarting the
 * sequence at every step: the gradient reaching h_t is the gradient of h0 for
 * the rest of the sequence started from h_t. Costs T forward/backward passes;
 * the independent computation the probe is checked against.
 * The layer's parameter gradients are left as they were.
 *
 * @param rnn - The layer (inputSize I, one layer, one direction).
 * @param x - Inputs [T, B, I] (time-major).
 * @param u - The loss's gradient at the last step, [B, H] (row-major).
 * @returns Index t: ‖∂L/∂h_t‖ (Frobenius norm over the batch and hidden units).
 */
function stateGradNormsByRestart(rnn: RNN, x: Tensor, u: Float32Array): number[] {
  const [T, B, I] = x.shape;
  const H = rnn.config.hiddenSize;
  const saved = rnn.parameters().map((p) => Float32Array.from(p.grad));
  const { y } = rnn.forward(x);
  rnn.backward({}); // drops the tape
  const out = new Array<number>(T);
  out[T - 1] = Math.hypot(...u);
  for (let t = 0; t < T - 1; t++) {
    const steps = T - 1 - t;
    const sub: Tensor = { data: x.data.subarray((t + 1) * B * I, T * B * I), shape: [steps, B, I] };
    const h0: Tensor = { data: Float32Array.from(y.data.subarray(t * B * H, (t + 1) * B * H)), shape: [1, B, H] };
    rnn.forward(sub, { h0 });
    const gy = new Float32Array(steps * B * H);
    gy.set(u, (steps - 1) * B * H);
    out[t] = Math.hypot(...rnn.backward({ gy: { data: gy, shape: [steps, B, H] } }, { inputGrad: false }).gh0.data);
  }
  rnn.parameters().forEach((p, i) => p.grad.set(saved[i]));
  return out;
}

describe('demo gradients (CLI)', () => {
  const T = 40;
  const r = runCli(dir, ['demo', 'gradients', '--length', String(T), '--json', '--out-dir', dir, '--seed', '3', '--threads', '1']);
  const lines = r.code === 0 ? jsonLines(r.stdout) : [];
  const last = (lines.at(-1) ?? {}) as { type?: string; length?: number; curves?: { name: string; gradNorm: number[]; paramGradNorm: number; clipScale?: number }[]; plot?: string };
  const curve = (name: string): number[] => (last.curves ?? []).find((c) => c.name === name)?.gradNorm ?? [];

  it('ends with a result line: length, one curve of T numbers per model, the plot', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(lines[0].type).toBe('start');
    expect(last.type).toBe('result');
    expect(last.length).toBe(T);
    const names = (last.curves ?? []).map((c) => c.name);
    expect(names).toEqual(['tanh', 'relu', 'irnn', 'lstm', 'lstm-forget-bias', 'exploding', 'exploding-clipped']);
    for (const c of last.curves ?? []) {
      expect(c.gradNorm).toHaveLength(T);
      for (const v of c.gradNorm) expect(Number.isFinite(v) && v >= 0).toBe(true);
      // The loss's own gradient at the last step has norm 1 (before clipping).
      if (c.name !== 'exploding-clipped') expect(c.gradNorm[T - 1]).toBeCloseTo(1, 5);
    }
    expect(last.plot).toBe(join(dir, 'gradients.svg'));
    expect(existsSync(last.plot as string)).toBe(true);
  });

  it('tanh and ReLU (PyTorch init) vanish with the distance from the loss; IRNN keeps it', () => {
    const tanh = curve('tanh');
    const relu = curve('relu');
    const ir = curve('irnn');
    expect(tanh[0]).toBeLessThan(1e-5);
    expect(relu[0]).toBeLessThan(1e-5);
    // Decays monotonically (within float noise) going back in time.
    for (let t = 0; t < T - 1; t++) expect(tanh[t]).toBeLessThan(tanh[t + 1] * 1.0001);
    expect(ir[0]).toBeGreaterThan(0.2);
    expect(Math.min(...ir)).toBeGreaterThan(0.2);
    // PyTorch's LSTM decays too, more slowly than tanh; a forget-gate bias keeps it.
    expect(curve('lstm')[0]).toBeGreaterThan(tanh[0]);
    expect(curve('lstm')[0]).toBeLessThan(1e-3);
    expect(curve('lstm-forget-bias')[0]).toBeGreaterThan(1e-3);
    expect(curve('lstm-forget-bias')[0]).toBeGreaterThan(100 * curve('lstm')[0]);
  });

  it('a recurrent gain of 1.1 explodes; clipping scales the whole curve by one factor (the global norm becomes 1)', () => {
    const ex = curve('exploding');
    expect(ex[0]).toBeGreaterThan(5);
    const clipped = (last.curves ?? []).find((c) => c.name === 'exploding-clipped');
    const exploding = (last.curves ?? []).find((c) => c.name === 'exploding');
    expect(clipped?.clipScale).toBeCloseTo(1 / ((exploding?.paramGradNorm ?? NaN) + 1e-6), 5);
    expect(clipped?.paramGradNorm).toBeCloseTo(1, 4);
    clipped?.gradNorm.forEach((v, t) => expect(v).toBeCloseTo(ex[t] * (clipped.clipScale as number), 4));
  });

  it('writes a well-formed SVG with a log axis and a legend entry per curve', () => {
    const svg = readFileSync(join(dir, 'gradients.svg'), 'utf8');
    expectWellFormedSvg(svg);
    for (const c of last.curves ?? []) expect(svg).toContain(`>${c.name}`);
    expect(svg).toMatch(/>1e-\d+</); // decade ticks
    expect(svg).toContain('log scale');
  });

  it('prints a table without --json', () => {
    const t = runCli(dir, ['demo', 'gradients', '--length', '12', '--hidden', '16', '--out-dir', dir]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^tanh +1 /m);
    expect(t.stdout).toContain('exploding-clipped');
    expect(t.stdout).toContain('gradients.svg');
  });

  it('refuses bad values with exit code 2', () => {
    for (const args of [['--length', '1'], ['--gain', '0'], ['--clip', '-1']]) {
      const b = runCli(dir, ['demo', 'gradients', ...args, '--out-dir', dir]);
      expect(b.code).toBe(2);
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('the probe', () => {
  it('traceStates equals the norm of gh0 of the sequence restarted at each step', () => {
    const T = 25;
    const B = 3;
    const H = 8;
    const rng = new Rng(5);
    const x: Tensor = { data: Float32Array.from({ length: T * B * 2 }, () => rng.normal()), shape: [T, B, 2] };
    const u = Float32Array.from({ length: B * H }, () => rng.normal());
    for (const rnn of [new RNN({ inputSize: 2, hiddenSize: H, seed: 1 }), irnn(2, H, 2)]) {
      const restart = stateGradNormsByRestart(rnn, x, u);
      expect(restart).toHaveLength(T);
      expect(restart[T - 1]).toBeCloseTo(Math.hypot(...u), 5);
      rnn.forward(x);
      const gy = new Float32Array(T * B * H);
      gy.set(u, (T - 1) * B * H);
      const traced = rnn.backward({ gy: { data: gy, shape: [T, B, H] } }, { traceStates: true }).stateGradNorms as Float64Array[];
      expect(traced).toHaveLength(1);
      for (let t = 0; t < T; t++) expect(Math.abs(traced[0][t] - restart[t])).toBeLessThanOrEqual(1e-4 * restart[t] + 1e-30);
    }
  });

  it('gradientCurves is deterministic for a seed and the SVG renders curves that underflow to 0', () => {
    const o = { length: 20, hidden: 12, batch: 4, gain: 1.1, clip: 1, seed: 9 };
    const a = gradientCurves(o);
    const b = gradientCurves(o);
    expect(a.map((c) => c.gradNorm)).toEqual(b.map((c) => c.gradNorm));
    const svg = gradientsSvg([{ name: 'tanh', description: '', gradNorm: [0, 1e-50, 1e-3, 1], paramGradNorm: 1 }], 4, 12, 4);
    expectWellFormedSvg(svg);
  });
});
