/**
 * A plain TypeScript implementation of one direction of the ONNX `RNN`
 * operator, for what the native core does not cover: every ONNX activation,
 * `clip`, zero-length sequences.
 *
 * `H_t = f(clip(X_t W^T + H_{t-1} R^T + Wb + Rb))`, accumulated in double
 * precision and stored as float32. With sequence lengths, batch entry b runs
 * steps `0..len_b-1` only (the reverse direction starting at `len_b-1`), its
 * outputs at later steps are 0, and its final state is the state after the
 * last step it ran, as onnxruntime does; for a `len_b` of 0 it is the initial state
 * (no step ran; onnxruntime 1.30 writes zeros there).
 */

/** The activation functions the ONNX RNN operator names. */
export type OnnxActivationName =
  | 'Relu'
  | 'Tanh'
  | 'Sigmoid'
  | 'Affine'
  | 'LeakyRelu'
  | 'ThresholdedRelu'
  | 'ScaledTanh'
  | 'HardSigmoid'
  | 'Elu'
  | 'Softsign'
  | 'Softplus';

/** Every activation name, in the order the ONNX operator lists them. */
export const ONNX_ACTIVATIONS: readonly OnnxActivationName[] = [
  'Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus',
];

/** Which of alpha and beta each activation takes, and their defaults (those of the ONNX operators of the same name). */
export const ACTIVATION_PARAMS: Readonly<Record<OnnxActivationName, { alpha?: number; beta?: number }>> = {
  Relu: {},
  Tanh: {},
  Sigmoid: {},
  Softsign: {},
  Softplus: {},
  Affine: { alpha: 1, beta: 0 },
  LeakyRelu: { alpha: 0.01 },
  ThresholdedRelu: { alpha: 1 },
  // The ScaledTanh operator documents no defaults; alpha = beta = 1 makes it Tanh.
  ScaledTanh: { alpha: 1, beta: 1 },
  HardSigmoid: { alpha: 0.2, beta: 0.5 },
  Elu: { alpha: 1 },
};

/** An activation with its parameters resolved. */
export interface OnnxActivation {
  /** The function. */
  readonly name: OnnxActivationName;
  /** Its alpha (0 when unused). */
  readonly alpha: number;
  /** Its beta (0 when unused). */
  readonly beta: number;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** The scalar function of an activation. */
export function activationFunction(act: OnnxActivation): (x: number) => number {
  const { alpha, beta } = act;
  switch (act.name) {
    case 'Relu':
      return (x) => (x > 0 ? x : 0);
    case 'Tanh':
      return Math.tanh;
    case 'Sigmoid':
      return sigmoid;
    case 'Affine':
      return (x) => alpha * x + beta;
    case 'LeakyRelu':
      return (x) => (x >= 0 ? x : alpha * x);
    case 'ThresholdedRelu':
      return (x) => (x > alpha ? x : 0);
    case 'ScaledTanh':
      return (x) => alpha * Math.tanh(beta * x);
    case 'HardSigmoid':
      return (x) => Math.min(1, Math.max(0, alpha * x + beta));
    case 'Elu':
      return (x) => (x >= 0 ? x : alpha * Math.expm1(x));
    case 'Softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'Softplus':
      return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  }
}

/** The arguments of one direction of one RNN layer. */
export interface GenericRnnArgs {
  /** Input, time-major [T,B,I]. */
  x: Float32Array;
  /** W for this direction, [H,I]. */
  w: Float32Array;
  /** R for this direction, [H,H]. */
  r: Float32Array;
  /** Wb for this direction, [H], or null. */
  wb: Float32Array | null;
  /** Rb for this direction, [H], or null. */
  rb: Float32Array | null;
  /** Initial state [B,H], or null for zeros. */
  h0: Float32Array | null;
  /** Steps per batch entry (0..T), or null for all T. */
  lengths: Int32Array | null;
  /** Run from the last valid step to the first. */
  reverse: boolean;
  /** The activation. */
  activation: OnnxActivation;
  /** Clip threshold applied to the activation's input, or null for none. */
  clip: number | null;
  T: number;
  B: number;
  I: number;
  H: number;
}

/** Runs one direction; returns its outputs `y [T,B,H]` and final state `h [B,H]`. */
export function rnnGenericDirection(a: GenericRnnArgs): { y: Float32Array; h: Float32Array } {
  const { x, w, r, wb, rb, h0, lengths, reverse, clip, T, B, I, H } = a;
  const f = activationFunction(a.activation);
  const y = new Float32Array(T * B * H);
  const h = h0 ? Float32Array.from(h0) : new Float32Array(B * H);
  const bias = new Float64Array(H);
  for (let j = 0; j < H; j++) bias[j] = (wb ? wb[j] : 0) + (rb ? rb[j] : 0);
  const pre = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    const hb = h.subarray(b * H, (b + 1) * H);
    for (let s = 0; s < len; s++) {
      const t = reverse ? len - 1 - s : s;
      const xo = (t * B + b) * I;
      for (let j = 0; j < H; j++) {
        let acc = bias[j];
        const wo = j * I;
        for (let i = 0; i < I; i++) acc += x[xo + i] * w[wo + i];
        const ro = j * H;
        for (let k = 0; k < H; k++) acc += hb[k] * r[ro + k];
        pre[j] = acc;
      }
      const yo = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        let v = pre[j];
        if (clip !== null) v = v > clip ? clip : v < -clip ? -clip : v;
        const out = f(v);
        hb[j] = out;
        y[yo + j] = out;
      }
    }
  }
  return { y, h };
}
