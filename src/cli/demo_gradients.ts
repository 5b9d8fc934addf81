/**
 * `rnnblas demo gradients`: BPTT's first problem made visible. Trains
 * nothing: builds recurrent layers of one size with different cells and
 * initialisations, runs them over one batch of adding-problem sequences, puts
 * a loss on the last step only and measures how much of its gradient reaches
 * each earlier step, ‖∂L/∂h_t‖ (the probe `backward(..., { traceStates: true })`).
 *
 * - tanh and ReLU with PyTorch's initialisation: the gradient vanishes
 *   geometrically with the distance from the loss.
 * - IRNN (ReLU, identity recurrence, zero biases) and LSTM: it is kept.
 * - ReLU with identity × gain (gain > 1, default 1.1): it explodes. With
 *   `clipGradNorm` the step uses the whole gradient rescaled by one factor
 *   min(1, maxNorm / ‖∇θ‖) (the global norm over all parameter gradients), so
 *   the "clipped" curve is the exploding curve times that factor: bounded, but
 *   of the same shape (clipping tames the size of the update, it does not
 *   change which steps the gradient comes from).
 *
 * The loss is linear in the last state, L = Σ u ⊙ h_{T-1}, with u a fixed
 * random direction of norm 1 over the batch and hidden units, so every curve
 * starts at 1 at t = T-1 and reads as "the share of the last step's gradient
 * that reaches step t".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { setNumThreads } from '../blas.js';
import { addingProblem } from '../data/adding.js';
import * as lib from '../index.js';
import { normal_ } from '../nn/init.js';
import { RNN } from '../nn/rnn.js';
import type { RnnBackwardOptions } from '../nn/rnn_functional.js';
import { clipGradNorm } from '../optim/clip.js';
import { Rng } from '../random.js';
import type { Parameter, Tensor } from '../tensor.js';
import { renderSvg } from './svg.js';

/** Options of `rnnblas demo gradients`. */
export interface GradientsDemoOptions {
  /** Sequence length T (the loss is at step T-1). */
  length: number;
  /** Hidden size of every layer. */
  hidden: number;
  /** Sequences in the batch. */
  batch: number;
  /** Recurrent gain of the exploding curve (ReLU, identity × gain). */
  gain: number;
  /** maxNorm of the clipped curve (clipGradNorm). */
  clip: number;
  /** Seed (weights, inputs and the loss direction). */
  seed: number;
  /** OpenBLAS threads. */
  threads?: number;
  /** Where gradients.svg goes. */
  outDir: string;
  /** JSON lines. */
  json: boolean;
}

/** One curve of the result. */
export interface GradientCurve {
  /** 'tanh' | 'relu' | 'irnn' | 'lstm' | 'exploding' | 'exploding-clipped'. */
  name: string;
  /** What was built. */
  description: string;
  /** ‖∂L/∂h_t‖ for t = 0 .. T-1 (index t). */
  gradNorm: number[];
  /** The global 2-norm of the layer's parameter gradients (before any clipping). */
  paramGradNorm: number;
  /** For the clipped curve: clipGradNorm's factor min(1, maxNorm / (‖∇θ‖ + 1e-6)). */
  clipScale?: number;
}

/** The `--json` result line. */
export interface GradientsDemoResult {
  /** Sequence length. */
  length: number;
  /** Hidden size. */
  hidden: number;
  /** Batch size. */
  batch: number;
  /** The curves, in plotting order. */
  curves: GradientCurve[];
  /** The SVG written. */
  plot: string;
  /** Seconds. */
  seconds: number;
}

/** What `backward(..., { traceStates: true })` adds to its result. */
interface TracedBackward {
  stateGradNorms?: Float64Array[];
}

/** The LSTM module's surface used here (the same forward/backward contract as RNN, plus c). */
interface LstmLike {
  forward(x: Tensor, options?: Record<string, unknown>): { y: Tensor };
  backward(grads: { gy?: Tensor }, options?: Record<string, unknown>): unknown;
  parameters(): Parameter[];
}
type LstmCtor = new (o: { inputSize: number; hiddenSize: number; seed?: number }) => LstmLike;

/** The library's LSTM when this build has one. */
function lstmClass(): LstmCtor | null {
  const c = (lib as Record<string, unknown>).LSTM;
  return typeof c === 'function' ? (c as LstmCtor) : null;
}

/**
 * ‖∂L/∂h_t‖ of a single-layer unidirectional Elman RNN by restarting the
 * sequence at every step: the gradient reaching h_t is the gradient of h0 for
 * the rest of the sequence started from h_t. Costs T forward/backward passes;
 * used where the module has no `traceStates` probe, and to cross-check it.
 * The layer's parameter gradients are left as they were.
 *
 * @param rnn - The layer (inputSize I, one layer, one direction).
 * @param x - Inputs [T, B, I] (time-major).
 * @param u - The loss's gradient at the last step, [B, H] (row-major).
 * @returns Index t: ‖∂L/∂h_t‖ (Frobenius norm over the batch and hidden units).
 */
export function stateGradNormsByRestart(rnn: RNN, x: Tensor, u: Float32Array): number[] {
  const [T, B, I] = x.shape;
  const H = rnn.config.hiddenSize;
  const saved = rnn.parameters().map((p) => Float32Array.from(p.grad));
  const { y } = rnn.forward(x);
  rnn.backward({}); // drops the tape
  const out = new Array<number>(T);
  out[T - 1] = norm(u);
  for (let t = 0; t < T - 1; t++) {
    const steps = T - 1 - t;
    const sub: Tensor = { data: x.data.subarray((t + 1) * B * I, T * B * I), shape: [steps, B, I] };
    const h0: Tensor = { data: Float32Array.from(y.data.subarray(t * B * H, (t + 1) * B * H)), shape: [1, B, H] };
    rnn.forward(sub, { h0 });
    const gy = new Float32Array(steps * B * H);
    gy.set(u, (steps - 1) * B * H);
    out[t] = norm(rnn.backward({ gy: { data: gy, shape: [steps, B, H] } }, { inputGrad: false }).gh0.data);
  }
  rnn.parameters().forEach((p, i) => p.grad.set(saved[i]));
  return out;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function paramNorm(ps: readonly Parameter[]): number {
  return clipGradNorm(ps, Infinity);
}

/** Builds the IRNN of Le, Jaitly & Hinton (2015): ReLU, W_hh = gain × I, zero biases, W_ih ~ N(0, 0.001²). */
export function irnn(inputSize: number, hiddenSize: number, seed: number, gain = 1): RNN {
  const rnn = new RNN({ inputSize, hiddenSize, nonlinearity: 'relu', init: { weightHh: 'identity', gain, bias: 0 }, seed });
  const rng = new Rng(seed + 1);
  for (const p of rnn.parameters()) if (p.name.startsWith('weight_ih')) normal_(p, 0, 0.001, { rng });
  return rnn;
}

/** One curve's model and how to measure it. */
interface Probe {
  name: string;
  description: string;
  measure(x: Tensor, gy: Tensor, u: Float32Array): { gradNorm: number[]; params: Parameter[] };
}

/** backward with the traceStates probe, or without it (and without stateGradNorms) where the module does not know the option. */
function tracedBackward(rnn: RNN, gy: Tensor): TracedBackward {
  try {
    return rnn.backward({ gy }, { inputGrad: false, traceStates: true } as RnnBackwardOptions) as TracedBackward;
  } catch (err) {
    if (!(err instanceof RangeError) || !/traceStates/.test(err.message)) throw err;
    return rnn.backward({ gy }, { inputGrad: false }) as TracedBackward;
  }
}

function rnnProbe(name: string, description: string, rnn: RNN): Probe {
  return {
    name,
    description,
    measure(x, gy, u) {
      rnn.zeroGrad();
      rnn.forward(x);
      const r = tracedBackward(rnn, gy);
      const gradNorm = r.stateGradNorms ? Array.from(r.stateGradNorms[0]) : stateGradNormsByRestart(rnn, x, u);
      return { gradNorm, params: rnn.parameters() };
    },
  };
}

function lstmProbe(Lstm: LstmCtor, H: number, seed: number): Probe {
  const m = new Lstm({ inputSize: 2, hiddenSize: H, seed });
  return {
    name: 'lstm',
    description: "LSTM, PyTorch's initialisation",
    measure(x, gy) {
      for (const p of m.parameters()) p.grad.fill(0);
      m.forward(x);
      const r = m.backward({ gy }, { inputGrad: false, traceStates: true }) as TracedBackward;
      if (!r.stateGradNorms) throw new Error('this build of the LSTM module has no traceStates probe');
      return { gradNorm: Array.from(r.stateGradNorms[0]), params: m.parameters() };
    },
  };
}

/**
 * Measures the curves (no training).
 *
 * @param o - Length, sizes, gain, clip and seed.
 * @param onCurve - Called after each curve (progress).
 * @returns The curves in plotting order.
 */
export function gradientCurves(o: Pick<GradientsDemoOptions, 'length' | 'hidden' | 'batch' | 'gain' | 'clip' | 'seed'>, onCurve?: (name: string) => void): GradientCurve[] {
  const T = o.length;
  const H = o.hidden;
  const B = o.batch;
  // Inputs: one batch of the adding problem, time-major [T, B, 2].
  const d = addingProblem({ length: T, count: B, seed: o.seed });
  const x = new Float32Array(T * B * 2);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let c = 0; c < 2; c++) x[(t * B + b) * 2 + c] = d.x.data[(b * T + t) * 2 + c];
  const xt: Tensor = { data: x, shape: [T, B, 2] };
  // The loss's gradient at the last step: a random direction of norm 1.
  const rng = new Rng(o.seed + 17);
  const u = new Float32Array(B * H);
  for (let i = 0; i < u.length; i++) u[i] = rng.normal();
  const un = norm(u);
  for (let i = 0; i < u.length; i++) u[i] /= un;
  const gyData = new Float32Array(T * B * H);
  gyData.set(u, (T - 1) * B * H);
  const gy: Tensor = { data: gyData, shape: [T, B, H] };

  const probes: Probe[] = [
    rnnProbe('tanh', "tanh, PyTorch's initialisation U(-1/√H, 1/√H)", new RNN({ inputSize: 2, hiddenSize: H, seed: o.seed + 1 })),
    rnnProbe('relu', "ReLU, PyTorch's initialisation", new RNN({ inputSize: 2, hiddenSize: H, nonlinearity: 'relu', seed: o.seed + 2 })),
    rnnProbe('irnn', 'IRNN: ReLU, W_hh = I, biases 0, W_ih ~ N(0, 0.001²)', irnn(2, H, o.seed + 3)),
  ];
  const Lstm = lstmClass();
  if (Lstm) probes.push(lstmProbe(Lstm, H, o.seed + 4));
  probes.push(rnnProbe('exploding', `ReLU, W_hh = ${o.gain} × I (too large a gain), biases 0`, irnn(2, H, o.seed + 5, o.gain)));

  const curves: GradientCurve[] = [];
  for (const p of probes) {
    const { gradNorm, params } = p.measure(xt, gy, u);
    const total = paramNorm(params);
    curves.push({ name: p.name, description: p.description, gradNorm, paramGradNorm: total });
    if (p.name === 'exploding') {
      // What the optimizer step sees after clipGradNorm(params, clip): every gradient times one factor.
      const pre = clipGradNorm(params, o.clip);
      const scale = Math.min(1, o.clip / (pre + 1e-6));
      curves.push({
        name: 'exploding-clipped',
        description: `the same, after clipGradNorm(params, ${o.clip}): every gradient times min(1, ${o.clip} / ‖∇θ‖) = ${fmtG(scale)}`,
        gradNorm: gradNorm.map((g) => g * scale),
        paramGradNorm: paramNorm(params),
        clipScale: scale,
      });
    }
    onCurve?.(p.name);
  }
  return curves;
}

const COLORS: Record<string, string> = {
  tanh: '#3182bd',
  relu: '#9ecae1',
  irnn: '#e6550d',
  lstm: '#31a354',
  exploding: '#756bb1',
  'exploding-clipped': '#bcbddc',
};

/** The SVG of the curves: ‖∂L/∂h_t‖ against t on a log axis. */
export function gradientsSvg(curves: GradientCurve[], T: number, H: number, B: number): string {
  return renderSvg(`rnnblas demo gradients: how much of the last step's gradient reaches step t (T = ${T}, H = ${H}, batch ${B})`, [
    {
      title: '‖∂L/∂h_t‖, loss on the last step only (its own gradient has norm 1; below 1e-40, float32 underflow, drawn at the bottom)',
      xLabel: 'step t (the loss is at the right end)',
      yLabel: '‖∂L/∂h_t‖ (log scale)',
      yLog: true,
      yMin: 1e-40,
      height: 460,
      lines: curves.map((c) => ({ label: c.clipScale !== undefined ? `${c.name} (×${fmtG(c.clipScale)})` : c.name, values: c.gradNorm, color: COLORS[c.name] ?? '#333333', dashed: c.name === 'exploding-clipped', width: 2 })),
    },
  ], 1000);
}

/** Runs the demo: prints a table (or JSON lines) and writes gradients.svg. */
export async function runDemoGradients(o: GradientsDemoOptions): Promise<GradientsDemoResult> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const t0 = Date.now();
  const T = o.length;
  const useBar = !o.json && process.stdout.isTTY === true;
  const bar = useBar ? new cliProgress.SingleBar({ format: ' {bar} {value}/{total} curves | {name}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
  const emit = (obj: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  if (o.json) emit({ type: 'start', length: T, hidden: o.hidden, batch: o.batch, gain: o.gain, clip: o.clip, lstm: lstmClass() !== null });
  bar?.start(lstmClass() ? 5 : 4, 0, { name: '' });
  const curves = gradientCurves(o, (name) => bar?.increment(1, { name }));
  bar?.stop();
  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const plot = join(dir, 'gradients.svg');
  writeFileSync(plot, gradientsSvg(curves, T, o.hidden, o.batch));
  const seconds = (Date.now() - t0) / 1000;
  const result: GradientsDemoResult = { length: T, hidden: o.hidden, batch: o.batch, curves, plot, seconds: Math.round(seconds * 1000) / 1000 };
  if (o.json) {
    emit({ type: 'result', ...result, curves: curves.map((c) => ({ ...c, gradNorm: c.gradNorm.map(sig) })) });
    return result;
  }
  const dists = [0, 10, 25, 50, 100, 200, 500].filter((k) => k < T);
  if (dists.at(-1) !== T - 1) dists.push(T - 1);
  console.log(`‖∂L/∂h_t‖ at distance d = T-1-t from the loss on the last step (T = ${T}, H = ${o.hidden}, batch ${o.batch}; at d = 0 it is 1)`);
  const w = 11;
  console.log(`${''.padEnd(19)}${dists.map((k) => `d=${k}`.padStart(w)).join('')}${'‖∇θ‖'.padStart(12)}`);
  for (const c of curves) {
    console.log(`${c.name.padEnd(19)}${dists.map((k) => fmtG(c.gradNorm[T - 1 - k]).padStart(w)).join('')}${fmtG(c.paramGradNorm).padStart(12)}`);
  }
  console.log('');
  for (const c of curves) console.log(`${c.name.padEnd(19)}${c.description}`);
  if (!lstmClass()) console.log('(no LSTM curve: this build has no LSTM module)');
  console.log(`\nclipping rescales the whole gradient by one factor: it bounds the exploding update but keeps the curve's shape,`);
  console.log(`and it cannot bring back a vanished gradient. plot: ${plot}  (${seconds.toFixed(2)} s)`);
  return result;
}

function sig(v: number): number {
  return Number(v.toPrecision(6));
}

function fmtG(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(1);
}
