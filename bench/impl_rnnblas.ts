/**
 * Benchmark child: rnnblas. Times the train step (W1-W3, F1, L1, G1: forward, head/loss,
 * BPTT without the input gradient, SGD) or the forward pass (W4, W5, L5, G5), and
 * optionally the per-call overhead of a one-step stateful call. L* / G* run the
 * LSTM / GRU module (gated.ts).
 *
 * Options: overhead (boolean): also time rnn.forward and native.forward at
 * T=1, B=1, I=64, H=128. adjacentPeak (boolean, one workload): also the workload's speed as a
 * percentage of sgemm 2048³ calls made between its steps (extra `<id>:adjacentPeakPct`).
 */
import { LastStep, Linear, RNN, SGD, Sequential, blasInfo, crossEntropy, mseLoss, setNumThreads, tensor, type Tensor } from '../src/index.js';
import { native, NativeActivation } from '../src/native/binding.js';
import { Lcg, median, peakRssMB, runChild, timeSteps, timing, type ChildResult, type Timing } from './common.js';
import { cellOf, directions, flops, type Workload } from './workloads.js';
import { sgemmRunner } from './sgemm_rates.js';
import { gatedRecurrent } from './gated.js';

/** Wall time of each part of the last train step, ms. */
interface Phases {
  forward: number;
  head: number;
  backward: number;
  update: number;
}

/** What the train step's model is built as (for the report's notes). */
export const TRAIN_MODEL = 'Sequential([RNN | LSTM | GRU, Linear]) (F1: [RNN, LastStep, Linear]; W2, W3: [RNN]), losses from src/nn/losses.ts, SGD from src/optim/sgd.ts';

function makeStep(w: Workload, phases: Phases[]): () => void {
  const { T, B, I, H } = w;
  const D = directions(w);
  const DH = D * H;
  const cell = cellOf(w);
  const rnn = cell === 'RNN'
    ? new RNN({ inputSize: I, hiddenSize: H, numLayers: w.layers, bidirectional: w.bidirectional, seed: 1 })
    : gatedRecurrent(cell, { inputSize: I, hiddenSize: H, numLayers: w.layers, bidirectional: w.bidirectional, seed: 1 });
  const rng = new Lcg(2);
  const x = tensor(rng.floats(T * B * I), [T, B, I]);
  if (w.work === 'forward') {
    rnn.eval();
    // Inference, as PyTorch's twin runs under torch.inference_mode(): no BPTT store kept.
    return () => {
      rnn.forward(x, { noGrad: true });
    };
  }
  // The model as a user builds it: a Sequential, which hands each layer's output and gradient
  // to the next in buffers it reuses from step to step. The first layer's input gradient is
  // not computed (x is data), as in PyTorch's twin.
  const head = w.head;
  const model = head.kind === 'linear-ce' ? new Sequential([rnn, new Linear({ inFeatures: DH, outFeatures: head.classes, seed: 1 })])
    : head.kind === 'last-linear-mse' ? new Sequential([rnn, new LastStep({ directions: D }), new Linear({ inFeatures: DH, outFeatures: head.outputs, seed: 1 })])
    : new Sequential([rnn]);
  const targets = head.kind === 'linear-ce' ? rng.ints(T * B, head.classes) : null;
  const target = head.kind === 'mse' ? tensor(rng.floats(T * B * DH), [T, B, DH])
    : head.kind === 'last-linear-mse' ? tensor(rng.floats(B * head.outputs), [B, head.outputs]) : null;
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  return () => {
    const t0 = performance.now();
    opt.zeroGrad();
    const out = model.forward(x);
    const t1 = performance.now();
    let gy: Tensor;
    if (targets && head.kind === 'linear-ce') {
      const g = crossEntropy({ data: out.data, shape: [T * B, head.classes] }, targets, { reduction: 'mean' }).grad;
      gy = { data: g.data, shape: out.shape };
    } else {
      gy = mseLoss(out, target as Tensor).grad;
    }
    const t2 = performance.now();
    model.backward(gy);
    const t3 = performance.now();
    opt.step();
    const t4 = performance.now();
    phases.push({ forward: t1 - t0, head: t2 - t1, backward: t3 - t2, update: t4 - t3 });
  };
}

/** Median µs per call of fn over `batches` batches of `n` calls. */
function microsPerCall(fn: () => void, n: number, batches: number): number {
  for (let i = 0; i < n; i++) fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return median(per);
}

function overhead(): Record<string, number> {
  const T = 1, B = 1, I = 64, H = 128;
  const rnn = new RNN({ inputSize: I, hiddenSize: H, seed: 1 });
  rnn.eval();
  const rng = new Lcg(3);
  const x = tensor(rng.floats(T * B * I), [T, B, I]);
  let h = tensor(new Float32Array(B * H), [1, B, H]);
  const moduleUs = microsPerCall(() => {
    h = rnn.forward(x, { h0: h }).hN;
  }, 2000, 9);
  const sd = rnn.stateDict();
  const y = new Float32Array(T * B * H);
  const h0 = new Float32Array(B * H);
  const hN = new Float32Array(B * H);
  const nativeUs = microsPerCall(() => {
    native.forwardLayer([{
      x: x.data, h0, wIh: sd.weight_ih_l0.data, wHh: sd.weight_hh_l0.data, bIh: sd.bias_ih_l0.data, bHh: sd.bias_hh_l0.data,
      lengths: null, y, hN, T, B, I, H, ld: H, act: NativeActivation.Tanh, reverse: false,
    }]);
    h0.set(hN);
  }, 5000, 9);
  return { overheadModuleUs: moduleUs, overheadNativeUs: nativeUs };
}

/**
 * The workload's speed as a percentage of the sgemm 2048³ speed measured right next to it: pairs
 * of (steps for ~60 ms, one sgemm call through the same team), the median of the per-pair ratios.
 * This host's speed drifts by up to 2× within minutes, which a peak measured minutes apart from a
 * workload mixes into "% of peak"; a ratio of neighbours in time cancels most of it.
 */
async function adjacentPeakPct(step: () => unknown, w: Workload, stepMs: number, pairs = 8): Promise<number> {
  const sgemm = sgemmRunner();
  sgemm();
  const k = Math.max(1, Math.round(60 / stepMs));
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) await step();
    const gflops = flops(w) / (((performance.now() - t0) / k) * 1e6);
    ratios.push((100 * gflops) / sgemm());
  }
  return median(ratios);
}

runChild('rnnblas', async (job) => {
  setNumThreads(job.threads);
  const info = blasInfo();
  const baseRssMB = peakRssMB();
  let stepsRssMB = baseRssMB;
  const timings: Timing[] = [];
  const extra: Record<string, number | string> = {};
  for (const w of job.workloads) {
    const phases: Phases[] = [];
    const step = makeStep(w, phases);
    const team0 = native.teamStats();
    const r = await timeSteps(step, job.warmup, job.reps, job.budgetMs, job.minTimeMs);
    const t = timing(w, job.threads, r, job.reps);
    // How often the thread team's helpers sat out (a helper lost its core): explains a slow round.
    const team1 = native.teamStats();
    const jobs = team1.jobs - team0.jobs;
    const benched = team1.soloBenched - team0.soloBenched;
    if (jobs > 0 && benched / jobs >= 0.005) {
      const why = `team: ${((100 * benched) / jobs).toFixed(0)}% of split jobs solo after ${team1.stalls - team0.stalls} stall(s)`;
      t.note = t.note ? `${t.note}; ${why}` : why;
    }
    timings.push(t);
    if (phases.length > 0) {
      const timed = phases.slice(-r.samples.length);
      for (const k of ['forward', 'head', 'backward', 'update'] as const) {
        extra[`${w.id}:${k}Ms`] = median(timed.map((p) => p[k]));
      }
    }
    stepsRssMB = peakRssMB();
    if (job.options?.adjacentPeak === true && job.workloads.length === 1) {
      extra[`${w.id}:adjacentPeakPct`] = await adjacentPeakPct(step, w, median(r.samples));
    }
  }
  if (job.options?.overhead) Object.assign(extra, overhead());
  if (job.options?.overhead) stepsRssMB = peakRssMB();
  const result: ChildResult = {
    impl: 'rnnblas',
    version: `${info.version} (${info.core})`,
    timings,
    baseRssMB,
    peakRssMB: stepsRssMB, // before the adjacent peak's 48 MB of sgemm operands
    extra,
    notes: [`train step: ${TRAIN_MODEL}`],
  };
  return result;
});
