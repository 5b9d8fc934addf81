/**
 * `rnnblas demo gradients`: BPTT's first problem made visible. Trains
 * nothing: builds recurrent layers of one size with different cells and
 * initialisations, runs them over one batch of adding-problem sequences, puts
 * a loss on the last step only and measures how much of its gradient reaches
 * each earlier step, ‖∂L/∂h_t‖ (the probe `backward(..., { traceStates: true })`).
 *
 * - tanh and ReLU with PyTorch's initialisation: the gradient vanishes
 *   geometrically with the distance from the loss.
 * - IRNN (ReLU, identity recurrence, zero biases): it is kept.
 * - LSTM with PyTorch's initialisation: it decays too (forget gates start
 *   near 0.5, so the cell keeps about half per step), more slowly than tanh;
 *   with the forget gate's bias at 2 (1 in each of bias_ih and bias_hh, the
 *   usual PyTorch idiom) it is kept: the cell's additive path is open.
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
import { normal_ } from '../nn/init.js';
import { LSTM } from '../nn/lstm.js';
import { RNN } from '../nn/rnn.js';
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
  /** 'tanh' | 'relu' | 'irnn' | 'lstm' | 'lstm-forget-bias' | 'exploding' | 'exploding-clipped'. */
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
  measure(x: Tensor, gy: Tensor): { gradNorm: number[]; params: Parameter[] };
}

/** Layer 0's trace (the only layer and direction here). */
function traced(norms: Float64Array[] | undefined): number[] {
  if (!norms) throw new Error('backward returned no stateGradNorms for traceStates: true');
  return Array.from(norms[0]);
}

function rnnProbe(name: string, description: string, rnn: RNN): Probe {
  return {
    name,
    description,
    measure(x, gy) {
      rnn.zeroGrad();
      rnn.forward(x);
      return { gradNorm: traced(rnn.backward({ gy }, { inputGrad: false, traceStates: true }).stateGradNorms), params: rnn.parameters() };
    },
  };
}

/**
 * An LSTM probe; with `forgetBias`, the forget gate's slice (rows H..2H, gate order i, f, g, o)
 * of both bias_ih and bias_hh is filled with it (PyTorch's common idiom), the others zeroed.
 */
function lstmProbe(H: number, seed: number, forgetBias?: number): Probe {
  const m = new LSTM({ inputSize: 2, hiddenSize: H, seed });
  if (forgetBias !== undefined) {
    for (const p of m.parameters()) {
      if (!p.name.startsWith('bias_')) continue;
      p.data.fill(0);
      p.data.fill(forgetBias, H, 2 * H);
    }
  }
  return {
    name: forgetBias === undefined ? 'lstm' : 'lstm-forget-bias',
    description:
      forgetBias === undefined
        ? "LSTM, PyTorch's initialisation (forget gates start near σ(0) = 0.5)"
        : `LSTM, PyTorch's weights, biases 0 but the forget gate's ${forgetBias} in both bias_ih and bias_hh (b_f = ${2 * forgetBias})`,
    measure(x, gy) {
      m.zeroGrad();
      m.forward(x);
      return { gradNorm: traced(m.backward({ gy }, { inputGrad: false, traceStates: true }).stateGradNorms), params: m.parameters() };
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
    lstmProbe(H, o.seed + 4),
    lstmProbe(H, o.seed + 4, 1),
  ];
  probes.push(rnnProbe('exploding', `ReLU, W_hh = ${o.gain} × I (too large a gain), biases 0`, irnn(2, H, o.seed + 5, o.gain)));

  const curves: GradientCurve[] = [];
  for (const p of probes) {
    const { gradNorm, params } = p.measure(xt, gy);
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
  lstm: '#a1d99b',
  'lstm-forget-bias': '#31a354',
  exploding: '#756bb1',
  'exploding-clipped': '#bcbddc',
};

/** The SVG of the curves: ‖∂L/∂h_t‖ against t on a log axis. */
export function gradientsSvg(curves: GradientCurve[], T: number, H: number, B: number): string {
  return renderSvg(`rnnblas demo gradients: how much of the last step's gradient reaches step t (T = ${T}, H = ${H}, batch ${B})`, [
    {
      title: '‖∂L/∂h_t‖ with the loss on the last step only (norm 1 there; underflow to 0 drawn at the bottom)',
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
  if (o.json) emit({ type: 'start', length: T, hidden: o.hidden, batch: o.batch, gain: o.gain, clip: o.clip });
  bar?.start(6, 0, { name: '' });
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
