/**
 * A plain float64 Elman RNN (forward and backpropagation through time) with exactly
 * the semantics of PyTorch's `torch.nn.RNN`. It exists only to check the native code
 * against: every loop is written out, nothing is fused or reordered, speed is no goal.
 *
 * Layouts (all row-major):
 * - x `[T, B, I]`, or `[B, T, I]` when `batchFirst`;
 * - y `[T, B, D*H]`, or `[B, T, D*H]` when `batchFirst`, forward direction first on the last axis;
 * - h0 / hN `[L*D, B, H]`, row `layer*D + dir` (dir 1 = reverse), whatever `batchFirst` is;
 * - weights under PyTorch's state_dict names and shapes.
 */
import { rangeError, typeError } from '../errors.js';
import { checkInt } from '../validate.js';

/** Hyper-parameters of the reference RNN; the same meaning as `torch.nn.RNN`'s arguments. */
export interface ReferenceRnnConfig {
  /** Features per step of the input (I). */
  inputSize: number;
  /** Features of the hidden state (H). */
  hiddenSize: number;
  /** Stacked layers (L). */
  numLayers: number;
  /** Activation applied to every pre-activation. */
  nonlinearity: 'tanh' | 'relu';
  /** Whether `bias_ih_*` and `bias_hh_*` exist. */
  bias: boolean;
  /** Whether every layer also runs a reverse direction (D = 2). */
  bidirectional: boolean;
  /** Whether x and y are `[B, T, ...]` instead of `[T, B, ...]`. */
  batchFirst: boolean;
}

/** Parameters (or their gradients) keyed by PyTorch state_dict name, each flat and row-major. */
export type Float64Weights = Record<string, Float64Array>;

/**
 * Everything {@link referenceRnnBackward} needs from a forward pass. All sequences are
 * stored time-major (`[T, B, ...]`) whatever `batchFirst` is.
 */
export interface ReferenceCache {
  /** The configuration the forward pass ran with. */
  readonly cfg: ReferenceRnnConfig;
  /** T. */
  readonly seqLen: number;
  /** B. */
  readonly batch: number;
  /** Steps used by each batch row (T for every row when no lengths were given). */
  readonly lengths: readonly number[];
  /** Initial state `[L*D, B, H]` (zeros when h0 was null). */
  readonly h0: Float64Array;
  /** Input sequence of each layer, `[T, B, in_k]` with in_0 = I and in_k = D*H for k ≥ 1. */
  readonly layerInputs: readonly Float64Array[];
  /** Per `layer*D + dir`: pre-activation at each step, `[T, B, H]` (0 at unprocessed steps). */
  readonly preActivations: readonly Float64Array[];
  /** Per `layer*D + dir`: state after processing each step, `[T, B, H]` (0 at unprocessed steps). */
  readonly states: readonly Float64Array[];
}

/** Output of {@link referenceRnnForward}. */
export interface ReferenceForwardResult {
  /** Output sequence of the last layer, `[T, B, D*H]` (`[B, T, D*H]` when batchFirst). */
  y: Float64Array;
  /** Final state of every layer and direction, `[L*D, B, H]`. */
  hN: Float64Array;
  /** Saved values for {@link referenceRnnBackward}. */
  cache: ReferenceCache;
}

/** Output of {@link referenceRnnBackward}: gradients of `sum(y*gy) + sum(hN*ghN)`. */
export interface ReferenceBackwardResult {
  /** Gradient of x, in x's layout. Exactly 0 past a sequence's length. */
  gx: Float64Array;
  /** Gradient of h0, `[L*D, B, H]`; returned even when h0 was null (then it is the gradient at h0 = 0). */
  gh0: Float64Array;
  /** Gradient of every parameter, under the parameter's name. */
  grads: Float64Weights;
}

function numDirections(cfg: ReferenceRnnConfig): number {
  return cfg.bidirectional ? 2 : 1;
}

function layerInputSize(cfg: ReferenceRnnConfig, layer: number): number {
  return layer === 0 ? cfg.inputSize : numDirections(cfg) * cfg.hiddenSize;
}

/**
 * Parameter names in PyTorch's order: for each layer, `weight_ih_l{k}`, `weight_hh_l{k}`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` (biases only when `bias`), then the same with `_reverse`
 * when bidirectional, then the next layer.
 */
export function referenceParameterNames(cfg: ReferenceRnnConfig): string[] {
  const names: string[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < numDirections(cfg); d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      names.push(`weight_ih_${sfx}`, `weight_hh_${sfx}`);
      if (cfg.bias) names.push(`bias_ih_${sfx}`, `bias_hh_${sfx}`);
    }
  }
  return names;
}

/**
 * PyTorch's shape of every parameter: `weight_ih_l{k}` `[H, in_k]` (in_0 = I, in_k = D*H),
 * `weight_hh_l{k}` `[H, H]`, biases `[H]`. Keys are in {@link referenceParameterNames} order.
 */
export function referenceParameterShapes(cfg: ReferenceRnnConfig): Record<string, number[]> {
  const H = cfg.hiddenSize;
  const shapes: Record<string, number[]> = {};
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < numDirections(cfg); d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      shapes[`weight_ih_${sfx}`] = [H, layerInputSize(cfg, k)];
      shapes[`weight_hh_${sfx}`] = [H, H];
      if (cfg.bias) {
        shapes[`bias_ih_${sfx}`] = [H];
        shapes[`bias_hh_${sfx}`] = [H];
      }
    }
  }
  return shapes;
}

function checkConfig(cfg: ReferenceRnnConfig): void {
  checkInt('inputSize', cfg.inputSize, 1);
  checkInt('hiddenSize', cfg.hiddenSize, 1);
  checkInt('numLayers', cfg.numLayers, 1);
  if (cfg.nonlinearity !== 'tanh' && cfg.nonlinearity !== 'relu') {
    throw rangeError('nonlinearity', "'tanh' or 'relu'", cfg.nonlinearity);
  }
}

function checkArray(name: string, value: unknown, length: number): Float64Array {
  if (!(value instanceof Float64Array)) throw typeError(name, 'a Float64Array', value);
  if (value.length !== length) throw rangeError(name, `${length} elements`, `${value.length} elements`);
  return value;
}

/** Looks up one parameter by name, checking its element count. */
function param(cfg: ReferenceRnnConfig, weights: Float64Weights, name: string): Float64Array {
  const shape = referenceParameterShapes(cfg)[name];
  return checkArray(`weights.${name}`, weights[name], shape.reduce((a, b) => a * b, 1));
}

/** The suffix of layer k, direction d's parameter names. */
function suffix(k: number, d: number): string {
  return `l${k}${d === 1 ? '_reverse' : ''}`;
}

/** Time step processed s-th by direction d of a row of length len. */
function stepAt(d: number, s: number, len: number): number {
  return d === 0 ? s : len - 1 - s;
}

/**
 * Runs the RNN forward in float64.
 *
 * @param cfg - The architecture.
 * @param weights - Every parameter of {@link referenceParameterNames}, PyTorch shapes, row-major.
 * @param x - Input, `[T, B, I]` (`[B, T, I]` when `cfg.batchFirst`).
 * @param seqLen - T.
 * @param batch - B.
 * @param h0 - Initial state `[L*D, B, H]`, or null for zeros.
 * @param seqLengths - Steps used by each batch row (each in 1..T, any order), or null for all T.
 *   Gives packed-sequence semantics: y is 0 past a row's length and the reverse direction
 *   starts at the row's last step.
 * @returns y, hN and the cache for {@link referenceRnnBackward}.
 */
export function referenceRnnForward(
  cfg: ReferenceRnnConfig,
  weights: Float64Weights,
  x: Float64Array,
  seqLen: number,
  batch: number,
  h0: Float64Array | null,
  seqLengths: readonly number[] | null,
): ReferenceForwardResult {
  checkConfig(cfg);
  const T = checkInt('seqLen', seqLen, 1);
  const B = checkInt('batch', batch, 1);
  const { inputSize: I, hiddenSize: H, numLayers: L } = cfg;
  const D = numDirections(cfg);
  checkArray('x', x, T * B * I);
  const h0Full = h0 === null ? new Float64Array(L * D * B * H) : new Float64Array(checkArray('h0', h0, L * D * B * H));
  let lengths: number[];
  if (seqLengths === null) {
    lengths = new Array<number>(B).fill(T);
  } else {
    if (!Array.isArray(seqLengths) || seqLengths.length !== B) {
      throw rangeError('seqLengths', `an array of ${B} lengths`, seqLengths);
    }
    lengths = seqLengths.map((len, b) => checkInt(`seqLengths[${b}]`, len, 1, T));
  }

  // Everything below works time-major; batchFirst only changes how x and y are indexed.
  const x0 = new Float64Array(T * B * I);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) {
        const src = cfg.batchFirst ? (b * T + t) * I + i : (t * B + b) * I + i;
        x0[(t * B + b) * I + i] = x[src];
      }
    }
  }

  const layerInputs: Float64Array[] = [];
  const preActivations: Float64Array[] = [];
  const states: Float64Array[] = [];
  const hN = new Float64Array(L * D * B * H);
  let input = x0;
  for (let k = 0; k < L; k++) {
    const inSize = layerInputSize(cfg, k);
    layerInputs.push(input);
    const out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const sfx = suffix(k, d);
      const wIh = param(cfg, weights, `weight_ih_${sfx}`);
      const wHh = param(cfg, weights, `weight_hh_${sfx}`);
      const bIh = cfg.bias ? param(cfg, weights, `bias_ih_${sfx}`) : null;
      const bHh = cfg.bias ? param(cfg, weights, `bias_hh_${sfx}`) : null;
      const row = k * D + d;
      const pre = new Float64Array(T * B * H);
      const hs = new Float64Array(T * B * H);
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        let hPrev = h0Full.slice((row * B + b) * H, (row * B + b + 1) * H);
        for (let s = 0; s < len; s++) {
          const t = stepAt(d, s, len);
          const h = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            let ax = 0;
            for (let i = 0; i < inSize; i++) ax += wIh[j * inSize + i] * input[(t * B + b) * inSize + i];
            let ah = 0;
            for (let i = 0; i < H; i++) ah += wHh[j * H + i] * hPrev[i];
            if (bIh !== null && bHh !== null) {
              ax += bIh[j];
              ah += bHh[j];
            }
            const a = ax + ah;
            h[j] = cfg.nonlinearity === 'tanh' ? Math.tanh(a) : Math.max(a, 0);
            pre[(t * B + b) * H + j] = a;
            hs[(t * B + b) * H + j] = h[j];
            out[(t * B + b) * D * H + d * H + j] = h[j];
          }
          hPrev = h;
        }
        hN.set(hPrev, (row * B + b) * H);
      }
      preActivations.push(pre);
      states.push(hs);
    }
    input = out;
  }

  const y = new Float64Array(T * B * D * H);
  const DH = D * H;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < DH; j++) {
        const dst = cfg.batchFirst ? (b * T + t) * DH + j : (t * B + b) * DH + j;
        y[dst] = input[(t * B + b) * DH + j];
      }
    }
  }

  const cache: ReferenceCache = { cfg: { ...cfg }, seqLen: T, batch: B, lengths, h0: h0Full, layerInputs, preActivations, states };
  return { y, hN, cache };
}

/**
 * Backpropagation through time in float64: gradients of
 * `loss = sum(y * gy) + sum(hN * ghN)` with respect to x, h0 and every parameter.
 *
 * @param cfg - The architecture (the same as the forward pass's).
 * @param weights - The parameters the forward pass used.
 * @param cache - From {@link referenceRnnForward}.
 * @param gy - Gradient of y, in y's layout, or null for zeros. Values at steps past a
 *   row's length are ignored (y is constant 0 there).
 * @param ghN - Gradient of hN, `[L*D, B, H]`, or null for zeros.
 */
export function referenceRnnBackward(
  cfg: ReferenceRnnConfig,
  weights: Float64Weights,
  cache: ReferenceCache,
  gy: Float64Array | null,
  ghN: Float64Array | null,
): ReferenceBackwardResult {
  checkConfig(cfg);
  const { inputSize: I, hiddenSize: H, numLayers: L } = cfg;
  const D = numDirections(cfg);
  const DH = D * H;
  const { seqLen: T, batch: B, lengths } = cache;
  if (cache.layerInputs.length !== L || cache.layerInputs[0].length !== T * B * I || cache.states.length !== L * D) {
    throw rangeError('cache', `a cache from a forward pass with this configuration`, 'a cache of another configuration');
  }
  if (cache.cfg.batchFirst !== cfg.batchFirst || cache.cfg.nonlinearity !== cfg.nonlinearity || cache.cfg.hiddenSize !== H) {
    throw rangeError('cache', `a cache from a forward pass with this configuration`, 'a cache of another configuration');
  }
  const gyBuf = gy === null ? null : checkArray('gy', gy, T * B * DH);
  const ghNBuf = ghN === null ? new Float64Array(L * D * B * H) : checkArray('ghN', ghN, L * D * B * H);

  // Gradient of the current layer's output sequence, time-major [T, B, D*H].
  let gOut = new Float64Array(T * B * DH);
  if (gyBuf !== null) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < DH; j++) {
          const src = cfg.batchFirst ? (b * T + t) * DH + j : (t * B + b) * DH + j;
          gOut[(t * B + b) * DH + j] = gyBuf[src];
        }
      }
    }
  }

  const grads: Float64Weights = {};
  const gh0 = new Float64Array(L * D * B * H);
  for (let k = L - 1; k >= 0; k--) {
    const inSize = layerInputSize(cfg, k);
    const input = cache.layerInputs[k];
    const gIn = new Float64Array(T * B * inSize);
    for (let d = 0; d < D; d++) {
      const sfx = suffix(k, d);
      const wIh = param(cfg, weights, `weight_ih_${sfx}`);
      const wHh = param(cfg, weights, `weight_hh_${sfx}`);
      const gWIh = new Float64Array(H * inSize);
      const gWHh = new Float64Array(H * H);
      const gB = new Float64Array(H);
      const row = k * D + d;
      const pre = cache.preActivations[row];
      const hs = cache.states[row];
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        // Gradient reaching the state after the step being undone, from later steps and ghN.
        let gNext = ghNBuf.slice((row * B + b) * H, (row * B + b + 1) * H);
        for (let s = len - 1; s >= 0; s--) {
          const t = stepAt(d, s, len);
          const hPrev =
            s === 0
              ? cache.h0.subarray((row * B + b) * H, (row * B + b + 1) * H)
              : hs.subarray((stepAt(d, s - 1, len) * B + b) * H, (stepAt(d, s - 1, len) * B + b + 1) * H);
          const ga = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const gh = gOut[(t * B + b) * DH + d * H + j] + gNext[j];
            const h = hs[(t * B + b) * H + j];
            // Same derivative rules as PyTorch: tanh' from the output, relu' = [a > 0].
            const dAct = cfg.nonlinearity === 'tanh' ? 1 - h * h : pre[(t * B + b) * H + j] > 0 ? 1 : 0;
            ga[j] = gh * dAct;
          }
          for (let j = 0; j < H; j++) {
            gB[j] += ga[j];
            for (let i = 0; i < inSize; i++) gWIh[j * inSize + i] += ga[j] * input[(t * B + b) * inSize + i];
            for (let i = 0; i < H; i++) gWHh[j * H + i] += ga[j] * hPrev[i];
          }
          // gIn += W_ih^T ga, gNext = W_hh^T ga.
          for (let i = 0; i < inSize; i++) {
            let acc = 0;
            for (let j = 0; j < H; j++) acc += wIh[j * inSize + i] * ga[j];
            gIn[(t * B + b) * inSize + i] += acc;
          }
          const gPrev = new Float64Array(H);
          for (let i = 0; i < H; i++) {
            let acc = 0;
            for (let j = 0; j < H; j++) acc += wHh[j * H + i] * ga[j];
            gPrev[i] = acc;
          }
          gNext = gPrev;
        }
        gh0.set(gNext, (row * B + b) * H);
      }
      grads[`weight_ih_${sfx}`] = gWIh;
      grads[`weight_hh_${sfx}`] = gWHh;
      if (cfg.bias) {
        // b_ih and b_hh enter the pre-activation the same way, so they share one gradient.
        grads[`bias_ih_${sfx}`] = gB;
        grads[`bias_hh_${sfx}`] = gB.slice();
      }
    }
    gOut = gIn;
  }

  const gx = new Float64Array(T * B * I);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) {
        const dst = cfg.batchFirst ? (b * T + t) * I + i : (t * B + b) * I + i;
        gx[dst] = gOut[(t * B + b) * I + i];
      }
    }
  }

  // Re-key in PyTorch's parameter order (the loop above filled them last layer first).
  const ordered: Float64Weights = {};
  for (const name of referenceParameterNames(cfg)) ordered[name] = grads[name];
  return { gx, gh0, grads: ordered };
}
