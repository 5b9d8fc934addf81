/**
 * Plain float64 LSTM and GRU layers (forward and backpropagation through time) with exactly
 * the semantics of PyTorch's `torch.nn.LSTM` and `torch.nn.GRU`: gate order i, f, g, o (LSTM)
 * and r, z, n (GRU, with `b_hn` inside `r * (W_hn h + b_hn)`), packed-sequence lengths,
 * bidirectional and stacked layers. With `resetAfter: false` the GRU is instead Keras'
 * `reset_after=False` / ONNX's `linear_before_reset=0` cell, the reset gate applied before the
 * recurrent product: `n = tanh(W_in x + b_in + W_hn (r ⊙ h') + b_hn)` (same names, shapes and
 * gate order). Like the Elman reference it exists only to check the native code against: every
 * loop is written out, nothing is fused, speed is no goal.
 *
 * Layouts (row-major): x `[T, B, I]` (`[B, T, I]` when batchFirst); y `[T, B, D*H]`
 * (`[B, T, D*H]`); h0/hN and c0/cN `[L*D, B, H]`, row `layer*D + dir`; weights under
 * PyTorch's state_dict names: `weight_ih_l{k}` `[G*H, in_k]`, `weight_hh_l{k}` `[G*H, H]`,
 * biases `[G*H]`, G = 4 (LSTM) or 3 (GRU).
 */
import { rangeError, typeError } from '../errors.js';
import { checkInt } from '../validate.js';
import type { Float64Weights } from './rnn_reference.js';

/** Which gated cell. */
export type GatedMode = 'LSTM' | 'GRU';

/** Hyper-parameters; the same meaning as `torch.nn.LSTM` / `torch.nn.GRU`'s arguments. */
export interface ReferenceGatedConfig {
  /** The cell. */
  mode: GatedMode;
  /** Features per step of the input (I). */
  inputSize: number;
  /** Features of the hidden state (H). */
  hiddenSize: number;
  /** Stacked layers (L). */
  numLayers: number;
  /** Whether `bias_ih_*` and `bias_hh_*` exist. */
  bias: boolean;
  /** Whether every layer also runs a reverse direction (D = 2). */
  bidirectional: boolean;
  /** Whether x and y are `[B, T, ...]` instead of `[T, B, ...]`. */
  batchFirst: boolean;
  /**
   * GRU only: whether the reset gate multiplies the recurrent product (`r ⊙ (W_hn h' + b_hn)`,
   * PyTorch's cell; the default, true) or the state before it (`W_hn (r ⊙ h') + b_hn`, Keras'
   * `reset_after=False`, ONNX's `linear_before_reset=0`).
   */
  resetAfter?: boolean;
}

/** Gate blocks of a cell: 4 for LSTM, 3 for GRU. */
export function gateCount(mode: GatedMode): number {
  return mode === 'LSTM' ? 4 : 3;
}

const directions = (cfg: ReferenceGatedConfig): number => (cfg.bidirectional ? 2 : 1);
const layerInput = (cfg: ReferenceGatedConfig, k: number): number => (k === 0 ? cfg.inputSize : directions(cfg) * cfg.hiddenSize);
const suffix = (k: number, d: number): string => `l${k}${d === 1 ? '_reverse' : ''}`;

/** PyTorch's parameter shapes, in state_dict order. */
export function gatedParameterShapes(cfg: ReferenceGatedConfig): Record<string, number[]> {
  const GH = gateCount(cfg.mode) * cfg.hiddenSize;
  const shapes: Record<string, number[]> = {};
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < directions(cfg); d++) {
      const s = suffix(k, d);
      shapes[`weight_ih_${s}`] = [GH, layerInput(cfg, k)];
      shapes[`weight_hh_${s}`] = [GH, cfg.hiddenSize];
      if (cfg.bias) {
        shapes[`bias_ih_${s}`] = [GH];
        shapes[`bias_hh_${s}`] = [GH];
      }
    }
  }
  return shapes;
}

/** Inputs of a forward pass besides x. */
export interface ReferenceGatedInputs {
  /** Initial hidden state `[L*D, B, H]`, or null for zeros. */
  h0?: Float64Array | null;
  /** Initial cell state `[L*D, B, H]` (LSTM only), or null for zeros. */
  c0?: Float64Array | null;
  /** Steps used by each batch row, each in 1..T; null for all T. */
  seqLengths?: readonly number[] | null;
}

/** What one layer-direction saved for backward, time-major `[T, B, ...]` (0 at unprocessed steps). */
interface DirectionCache {
  /** Gate activations after their nonlinearity, `[T, B, G*H]`. */
  gates: Float64Array;
  /** GRU: `W_hn h(t-1) + b_hn` (reset-before: `W_hn (r ⊙ h(t-1)) + b_hn`), `[T, B, H]`. */
  hn: Float64Array;
  /** State before the step, `[T, B, H]`. */
  hPrev: Float64Array;
  /** Cell state before and after the step (LSTM), `[T, B, H]`. */
  cPrev: Float64Array;
  c: Float64Array;
}

/** Everything the backward pass needs. */
export interface ReferenceGatedCache {
  readonly cfg: ReferenceGatedConfig;
  readonly T: number;
  readonly B: number;
  readonly lengths: readonly number[];
  readonly weights: Float64Weights;
  /** Input of each layer, time-major. */
  readonly layerInputs: readonly Float64Array[];
  /** Per `layer*D + dir`. */
  readonly dirs: readonly DirectionCache[];
}

/** Result of {@link referenceGatedForward}. */
export interface ReferenceGatedForwardResult {
  /** Output sequence of the last layer, in x's layout (`[.., .., D*H]`). */
  y: Float64Array;
  /** Final hidden state of every layer and direction `[L*D, B, H]`. */
  hN: Float64Array;
  /** Final cell state (LSTM; zeros-length for GRU). */
  cN: Float64Array;
  /** Saved values for {@link referenceGatedBackward}. */
  cache: ReferenceGatedCache;
}

/** Gradients flowing in: of `sum(y*gy) + sum(hN*ghN) + sum(cN*gcN)`. */
export interface ReferenceGatedGrads {
  gy?: Float64Array | null;
  ghN?: Float64Array | null;
  gcN?: Float64Array | null;
}

/** Result of {@link referenceGatedBackward}. */
export interface ReferenceGatedBackwardResult {
  /** Gradient of x, in x's layout. */
  gx: Float64Array;
  /** Gradient of h0 `[L*D, B, H]`. */
  gh0: Float64Array;
  /** Gradient of c0 `[L*D, B, H]` (LSTM; empty for GRU). */
  gc0: Float64Array;
  /** Every parameter's gradient by name. */
  grads: Float64Weights;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function checkConfig(cfg: ReferenceGatedConfig): void {
  if (cfg.mode !== 'LSTM' && cfg.mode !== 'GRU') throw rangeError('mode', "'LSTM' or 'GRU'", cfg.mode);
  checkInt('inputSize', cfg.inputSize, 1);
  checkInt('hiddenSize', cfg.hiddenSize, 1);
  checkInt('numLayers', cfg.numLayers, 1);
  if (cfg.resetAfter !== undefined && typeof cfg.resetAfter !== 'boolean') throw typeError('resetAfter', 'a boolean', cfg.resetAfter);
  if (cfg.resetAfter === false && cfg.mode !== 'GRU') throw rangeError('resetAfter', 'resetAfter only for a GRU', `mode '${cfg.mode}'`);
}

/** Whether the GRU applies its reset gate before the recurrent product (`resetAfter: false`). */
const resetBefore = (cfg: ReferenceGatedConfig): boolean => cfg.mode === 'GRU' && cfg.resetAfter === false;

function checkArray(name: string, value: unknown, length: number): Float64Array {
  if (!(value instanceof Float64Array)) throw typeError(name, 'a Float64Array', value);
  if (value.length !== length) throw rangeError(name, `${length} elements`, `${value.length} elements`);
  return value;
}

/** [A, B, F] -> [B, A, F]. */
function swap(src: Float64Array, A: number, B: number, F: number): Float64Array {
  const out = new Float64Array(src.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(b * A + a) * F + f] = src[(a * B + b) * F + f];
  return out;
}

/** Runs the whole stack forward. */
export function referenceGatedForward(
  cfg: ReferenceGatedConfig,
  weights: Float64Weights,
  x: Float64Array,
  seqLen: number,
  batch: number,
  inputs: ReferenceGatedInputs = {},
): ReferenceGatedForwardResult {
  checkConfig(cfg);
  const T = checkInt('seqLen', seqLen, 1);
  const B = checkInt('batch', batch, 1);
  const { hiddenSize: H, numLayers: L } = cfg;
  const D = directions(cfg);
  const G = gateCount(cfg.mode);
  const lstm = cfg.mode === 'LSTM';
  const before = resetBefore(cfg);
  const shapes = gatedParameterShapes(cfg);
  for (const [k, s] of Object.entries(shapes)) checkArray(k, weights[k], s.reduce((a, b) => a * b, 1));
  checkArray('x', x, T * B * cfg.inputSize);
  const h0 = inputs.h0 ? checkArray('h0', inputs.h0, L * D * B * H) : new Float64Array(L * D * B * H);
  const c0 = lstm && inputs.c0 ? checkArray('c0', inputs.c0, L * D * B * H) : new Float64Array(lstm ? L * D * B * H : 0);
  const lengths = inputs.seqLengths ? [...inputs.seqLengths] : Array.from({ length: B }, () => T);
  if (lengths.length !== B || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > T)) {
    throw rangeError('seqLengths', `${B} integers in 1..${T}`, `[${lengths.join(', ')}]`);
  }

  let input = cfg.batchFirst ? swap(x, B, T, cfg.inputSize) : x;
  const layerInputs: Float64Array[] = [];
  const dirs: DirectionCache[] = [];
  const hN = new Float64Array(L * D * B * H);
  const cN = new Float64Array(lstm ? L * D * B * H : 0);
  for (let k = 0; k < L; k++) {
    const I = layerInput(cfg, k);
    layerInputs.push(input);
    const out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const s = suffix(k, d);
      const wih = weights[`weight_ih_${s}`];
      const whh = weights[`weight_hh_${s}`];
      const bih = cfg.bias ? weights[`bias_ih_${s}`] : null;
      const bhh = cfg.bias ? weights[`bias_hh_${s}`] : null;
      const cache: DirectionCache = {
        gates: new Float64Array(T * B * G * H),
        hn: new Float64Array(T * B * H),
        hPrev: new Float64Array(T * B * H),
        cPrev: new Float64Array(T * B * H),
        c: new Float64Array(T * B * H),
      };
      const row = (k * D + d) * B * H;
      for (let b = 0; b < B; b++) {
        const h = h0.slice(row + b * H, row + (b + 1) * H);
        const c = lstm ? c0.slice(row + b * H, row + (b + 1) * H) : new Float64Array(H);
        for (let s2 = 0; s2 < lengths[b]; s2++) {
          const t = d === 0 ? s2 : lengths[b] - 1 - s2;
          const xt = input.subarray((t * B + b) * I, (t * B + b + 1) * I);
          const at = (t * B + b) * H;
          cache.hPrev.set(h, at);
          cache.cPrev.set(c, at);
          // Pre-activations of the input and recurrent halves, kept apart (GRU needs them so).
          const ai = new Float64Array(G * H);
          const ah = new Float64Array(G * H);
          // Reset-before GRU: the n block's recurrent half is computed below, from r ⊙ h'.
          for (let j = 0; j < G * H; j++) {
            let si = bih ? bih[j] : 0;
            for (let i = 0; i < I; i++) si += wih[j * I + i] * xt[i];
            ai[j] = si;
            if (before && j >= 2 * H) continue;
            let sh = bhh ? bhh[j] : 0;
            for (let i = 0; i < H; i++) sh += whh[j * H + i] * h[i];
            ah[j] = sh;
          }
          const g = cache.gates.subarray((t * B + b) * G * H, (t * B + b + 1) * G * H);
          if (lstm) {
            for (let j = 0; j < H; j++) {
              const ig = sigmoid(ai[j] + ah[j]);
              const fg = sigmoid(ai[H + j] + ah[H + j]);
              const gg = Math.tanh(ai[2 * H + j] + ah[2 * H + j]);
              const og = sigmoid(ai[3 * H + j] + ah[3 * H + j]);
              g[j] = ig; g[H + j] = fg; g[2 * H + j] = gg; g[3 * H + j] = og;
              c[j] = fg * c[j] + ig * gg;
              h[j] = og * Math.tanh(c[j]);
            }
          } else if (before) {
            const rh = new Float64Array(H);
            for (let j = 0; j < H; j++) rh[j] = sigmoid(ai[j] + ah[j]) * h[j];
            for (let j = 0; j < H; j++) {
              let sh = bhh ? bhh[2 * H + j] : 0;
              for (let i = 0; i < H; i++) sh += whh[(2 * H + j) * H + i] * rh[i];
              ah[2 * H + j] = sh;
            }
            for (let j = 0; j < H; j++) {
              const r = sigmoid(ai[j] + ah[j]);
              const z = sigmoid(ai[H + j] + ah[H + j]);
              const n = Math.tanh(ai[2 * H + j] + ah[2 * H + j]);
              g[j] = r; g[H + j] = z; g[2 * H + j] = n;
              cache.hn[at + j] = ah[2 * H + j];
              h[j] = (1 - z) * n + z * h[j];
            }
          } else {
            for (let j = 0; j < H; j++) {
              const r = sigmoid(ai[j] + ah[j]);
              const z = sigmoid(ai[H + j] + ah[H + j]);
              const n = Math.tanh(ai[2 * H + j] + r * ah[2 * H + j]);
              g[j] = r; g[H + j] = z; g[2 * H + j] = n;
              cache.hn[at + j] = ah[2 * H + j];
              h[j] = (1 - z) * n + z * h[j];
            }
          }
          cache.c.set(c, at);
          for (let j = 0; j < H; j++) out[(t * B + b) * D * H + d * H + j] = h[j];
        }
        hN.set(h, row + b * H);
        if (lstm) cN.set(c, row + b * H);
      }
      dirs.push(cache);
    }
    input = out;
  }
  const y = cfg.batchFirst ? swap(input, T, B, D * H) : input;
  return { y, hN, cN, cache: { cfg, T, B, lengths, weights, layerInputs, dirs } };
}

/** Backpropagation through time of `sum(y*gy) + sum(hN*ghN) + sum(cN*gcN)`. */
export function referenceGatedBackward(cache: ReferenceGatedCache, grads: ReferenceGatedGrads = {}): ReferenceGatedBackwardResult {
  const { cfg, T, B, lengths, weights } = cache;
  const { hiddenSize: H, numLayers: L } = cfg;
  const D = directions(cfg);
  const G = gateCount(cfg.mode);
  const lstm = cfg.mode === 'LSTM';
  const before = resetBefore(cfg);
  const n = L * D * B * H;
  let dOut = grads.gy ? checkArray('gy', grads.gy, T * B * D * H) : new Float64Array(T * B * D * H);
  if (cfg.batchFirst && grads.gy) dOut = swap(dOut, B, T, D * H);
  const ghN = grads.ghN ? checkArray('ghN', grads.ghN, n) : new Float64Array(n);
  const gcN = lstm && grads.gcN ? checkArray('gcN', grads.gcN, n) : new Float64Array(lstm ? n : 0);
  const gh0 = new Float64Array(n);
  const gc0 = new Float64Array(lstm ? n : 0);
  const out: Float64Weights = {};
  for (const [k, s] of Object.entries(gatedParameterShapes(cfg))) out[k] = new Float64Array(s.reduce((a, b) => a * b, 1));

  let dx = new Float64Array(0);
  for (let k = L - 1; k >= 0; k--) {
    const I = layerInput(cfg, k);
    const input = cache.layerInputs[k];
    dx = new Float64Array(T * B * I);
    for (let d = 0; d < D; d++) {
      const s = suffix(k, d);
      const wih = weights[`weight_ih_${s}`];
      const whh = weights[`weight_hh_${s}`];
      const dwih = out[`weight_ih_${s}`];
      const dwhh = out[`weight_hh_${s}`];
      const dbih = cfg.bias ? out[`bias_ih_${s}`] : null;
      const dbhh = cfg.bias ? out[`bias_hh_${s}`] : null;
      const dc = cache.dirs[k * D + d];
      const row = (k * D + d) * B * H;
      for (let b = 0; b < B; b++) {
        const dh = ghN.slice(row + b * H, row + (b + 1) * H);
        const dcell = lstm ? gcN.slice(row + b * H, row + (b + 1) * H) : new Float64Array(H);
        // Processing order reversed: the step taken last comes first.
        for (let s2 = lengths[b] - 1; s2 >= 0; s2--) {
          const t = d === 0 ? s2 : lengths[b] - 1 - s2;
          const at = (t * B + b) * H;
          for (let j = 0; j < H; j++) dh[j] += dOut[(t * B + b) * D * H + d * H + j];
          const g = dc.gates.subarray((t * B + b) * G * H, (t * B + b + 1) * G * H);
          const dai = new Float64Array(G * H); // d pre-activation of the input half
          const dah = new Float64Array(G * H); // d pre-activation of the recurrent half
          const dhPrev = new Float64Array(H);
          // Reset-before GRU: the n block's recurrent rows act on r ⊙ h', not h'.
          const rh = before ? new Float64Array(H) : null;
          if (lstm) {
            for (let j = 0; j < H; j++) {
              const [ig, fg, gg, og] = [g[j], g[H + j], g[2 * H + j], g[3 * H + j]];
              const tc = Math.tanh(dc.c[at + j]);
              const dct = dcell[j] + dh[j] * og * (1 - tc * tc);
              dai[j] = dct * gg * ig * (1 - ig);
              dai[H + j] = dct * dc.cPrev[at + j] * fg * (1 - fg);
              dai[2 * H + j] = dct * ig * (1 - gg * gg);
              dai[3 * H + j] = dh[j] * tc * og * (1 - og);
              dcell[j] = dct * fg;
            }
            dah.set(dai);
          } else if (rh) {
            const drh = new Float64Array(H); // d (r ⊙ h')
            for (let j = 0; j < H; j++) {
              const [z, nn] = [g[H + j], g[2 * H + j]];
              const dan = dh[j] * (1 - z) * (1 - nn * nn);
              dai[H + j] = dah[H + j] = dh[j] * (dc.hPrev[at + j] - nn) * z * (1 - z);
              dai[2 * H + j] = dah[2 * H + j] = dan;
              dhPrev[j] = dh[j] * z;
            }
            for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) drh[i] += whh[(2 * H + j) * H + i] * dah[2 * H + j];
            for (let i = 0; i < H; i++) {
              const r = g[i];
              const hp = dc.hPrev[at + i];
              rh[i] = r * hp;
              dai[i] = dah[i] = drh[i] * hp * r * (1 - r);
              dhPrev[i] += drh[i] * r;
            }
          } else {
            for (let j = 0; j < H; j++) {
              const [r, z, nn] = [g[j], g[H + j], g[2 * H + j]];
              const hp = dc.hPrev[at + j];
              const dan = dh[j] * (1 - z) * (1 - nn * nn);
              const daz = dh[j] * (hp - nn) * z * (1 - z);
              const dar = dan * dc.hn[at + j] * r * (1 - r);
              dai[j] = dar; dai[H + j] = daz; dai[2 * H + j] = dan;
              dah[j] = dar; dah[H + j] = daz; dah[2 * H + j] = dan * r;
              dhPrev[j] = dh[j] * z;
            }
          }
          const xt = input.subarray((t * B + b) * I, (t * B + b + 1) * I);
          for (let j = 0; j < G * H; j++) {
            for (let i = 0; i < I; i++) {
              dwih[j * I + i] += dai[j] * xt[i];
              dx[(t * B + b) * I + i] += wih[j * I + i] * dai[j];
            }
            if (rh && j >= 2 * H) {
              // Its path into h' went through drh above.
              for (let i = 0; i < H; i++) dwhh[j * H + i] += dah[j] * rh[i];
            } else {
              for (let i = 0; i < H; i++) {
                dwhh[j * H + i] += dah[j] * dc.hPrev[at + i];
                dhPrev[i] += whh[j * H + i] * dah[j];
              }
            }
            if (dbih && dbhh) {
              dbih[j] += dai[j];
              dbhh[j] += dah[j];
            }
          }
          dh.set(dhPrev);
        }
        gh0.set(dh, row + b * H);
        if (lstm) gc0.set(dcell, row + b * H);
      }
    }
    dOut = dx;
  }
  const gx = cfg.batchFirst ? swap(dx, T, B, cfg.inputSize) : dx;
  return { gx, gh0, gc0, grads: out };
}
