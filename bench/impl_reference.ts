/**
 * Benchmark child: the float64 TypeScript reference (src/reference/rnn_reference.ts).
 * It is written for clarity, not speed, so it runs at a small T (about
 * options.targetMs per step) and its time is scaled linearly to the
 * workload's T. Train work is RNN forward + backward only (no head, loss or
 * update; the reference always computes the input gradient too).
 */
import type * as Ref from '../src/reference/rnn_reference.js';
import { Lcg, peakRssMB, runChild, timeSteps, timing, type Timing } from './common.js';
import { cellOf, directions, type Workload } from './workloads.js';

runChild('reference', async (job) => {
  let ref: typeof Ref;
  try {
    ref = (await import(new URL('../src/reference/rnn_reference.js', import.meta.url).href)) as typeof Ref;
  } catch (e) {
    return { impl: 'reference', timings: [], skipped: `src/reference/rnn_reference.ts could not be loaded (${(e as Error).message.split('\n')[0]})` };
  }
  const targetMs = Number(job.options?.targetMs ?? 300);
  const timings: Timing[] = [];
  const notes: string[] = [];
  const baseRssMB = peakRssMB();
  for (const w of job.workloads) {
    if (cellOf(w) !== 'RNN') {
      notes.push(`${w.id}: skipped: this peer times the Elman reference only (not the gated one)`);
      continue;
    }
    const cfg: Ref.ReferenceRnnConfig = {
      inputSize: w.I, hiddenSize: w.H, numLayers: w.layers, nonlinearity: 'tanh', bias: true, bidirectional: w.bidirectional, batchFirst: false,
    };
    const rng = new Lcg(1);
    const k = 1 / Math.sqrt(w.H);
    const weights: Ref.Float64Weights = {};
    for (const [name, shape] of Object.entries(ref.referenceParameterShapes(cfg))) {
      weights[name] = Float64Array.from(rng.floats(shape.reduce((a, b) => a * b, 1), -k, k));
    }
    const DH = directions(w) * w.H;
    const run = (T: number) => {
      const x = Float64Array.from(rng.floats(T * w.B * w.I));
      const gy = w.work === 'train' ? Float64Array.from(rng.floats(T * w.B * DH)) : null;
      return () => {
        const f = ref.referenceRnnForward(cfg, weights, x, T, w.B, null, null);
        if (gy) ref.referenceRnnBackward(cfg, weights, f.cache, gy, null);
      };
    };
    // Probe one step at T=1, then pick the T that takes about targetMs.
    const probe = run(1);
    let perStep = Infinity;
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      probe();
      perStep = Math.min(perStep, Math.max(performance.now() - t0, 1e-3));
    }
    const Ts = Math.max(1, Math.min(w.T, Math.round(targetMs / perStep)));
    const r = await timeSteps(run(Ts), job.warmup, job.reps, job.budgetMs);
    const scale = w.T / Ts;
    const t = timing(w, job.threads, { samples: r.samples.map((ms) => ms * scale), cold: r.cold }, job.reps);
    t.note = `float64 TS reference, RNN ${w.work === 'train' ? 'fwd+bwd' : 'fwd'} only, measured at T=${Ts}${scale !== 1 ? `, scaled ×${scale.toFixed(1)}` : ''}`;
    timings.push(t);
  }
  return { impl: 'reference', version: 'src/reference (float64)', timings, baseRssMB, peakRssMB: peakRssMB(), notes };
});
