/**
 * A plain TypeScript implementation of one direction of the ONNX `LSTM` and
 * `GRU` operators, for every attribute the native core does not cover: any
 * activations (with alpha/beta), `clip`, `input_forget`, peepholes, GRU
 * `linear_before_reset=0`, zero-length sequences.
 *
 * Gate blocks as ONNX stores them: LSTM `i, o, f, c` (peepholes `i, o, f`),
 * GRU `z, r, h`. Per step, with `f, g, h` the direction's activations and
 * `clip(v)` bounding v to [-clip, clip] when a clip is given:
 *
 * LSTM: `i = f(clip(Xi + Hi + Pi⊙C))`, `f = 1 - i` when input_forget else
 * `f(clip(Xf + Hf + Pf⊙C))`, `c = g(clip(Xc + Hc))`, `C = f⊙C + i⊙c`,
 * `o = f(clip(Xo + Ho + Po⊙C))` (the new C), `H = o⊙h(C)`.
 *
 * GRU: `z = f(clip(Xz + Hz))`, `r = f(clip(Xr + Hr))`, `h~ = g(clip(X Wh^T +
 * (r⊙H) Rh^T + Wbh + Rbh))` (linear_before_reset=0) or `g(clip(X Wh^T + Wbh +
 * r⊙(H Rh^T + Rbh)))` (=1), `H = (1-z)⊙h~ + z⊙H`.
 *
 * (`Xg` is the gate's `X W^T + Wb`, `Hg` its `H R^T + Rb`.) Sums accumulate in
 * double precision, the state is carried in double precision and outputs are
 * stored as float32. With sequence lengths, batch entry b runs steps
 * `0..len_b-1` only (the reverse direction starting at `len_b-1`), its outputs
 * at later steps are 0, and its final states are those after the last step it
 * ran (the initial states when `len_b` is 0, as for the RNN operator; onnxruntime 1.30 writes
 * zeros for a length of 0).
 */
import { activationFunction, type OnnxActivation } from './rnn_generic.js';

/** The arguments of one direction of one LSTM or GRU node. */
export interface GatedDirectionArgs {
  /** Input, time-major [T,B,I]. */
  x: Float32Array;
  /** W for this direction, [G*H, I] (ONNX gate order). */
  w: Float32Array;
  /** R for this direction, [G*H, H]. */
  r: Float32Array;
  /** Wb for this direction, [G*H], or null. */
  wb: Float32Array | null;
  /** Rb for this direction, [G*H], or null. */
  rb: Float32Array | null;
  /** LSTM peepholes `[Pi | Po | Pf]` for this direction, [3H], or null. */
  p: Float32Array | null;
  /** Initial hidden state [B,H], or null for zeros. */
  h0: Float32Array | null;
  /** LSTM initial cell state [B,H], or null for zeros. */
  c0: Float32Array | null;
  /** Steps per batch entry (0..T), or null for all T. */
  lengths: Int32Array | null;
  /** Run from the last valid step to the first. */
  reverse: boolean;
  /** The direction's activations: f, g, h (LSTM) or f, g (GRU). */
  activations: readonly OnnxActivation[];
  /** Clip threshold applied to each activation's input, or null for none. */
  clip: number | null;
  /** LSTM `input_forget`: the forget gate is 1 - i. */
  inputForget: boolean;
  /** GRU `linear_before_reset`. */
  linearBeforeReset: boolean;
  T: number;
  B: number;
  I: number;
  H: number;
}

/** Outputs of one direction: `y [T,B,H]`, final `h [B,H]` and (LSTM) final `c [B,H]`. */
export interface GatedDirectionResult {
  y: Float32Array;
  h: Float32Array;
  c: Float32Array | null;
}

function clipper(clip: number | null): (v: number) => number {
  if (clip === null) return (v) => v;
  return (v) => (v > clip ? clip : v < -clip ? -clip : v);
}

/** rows x cols matrix `m` (row-major, float32) times `v` (offset vo), plus `acc` (in place, double). */
function gemvAdd(acc: Float64Array, m: Float32Array, rowStart: number, rows: number, cols: number, v: ArrayLike<number>, vo: number): void {
  for (let j = 0; j < rows; j++) {
    let s = 0;
    const mo = (rowStart + j) * cols;
    for (let k = 0; k < cols; k++) s += m[mo + k] * v[vo + k];
    acc[j] += s;
  }
}

/** Runs one LSTM direction. */
export function lstmGenericDirection(a: GatedDirectionArgs): GatedDirectionResult {
  const { x, w, r, wb, rb, p, lengths, reverse, T, B, I, H } = a;
  const f = activationFunction(a.activations[0]);
  const g = activationFunction(a.activations[1]);
  const hf = activationFunction(a.activations[2]);
  const cl = clipper(a.clip);
  const G = 4 * H;
  const y = new Float32Array(T * B * H);
  const hOut = new Float32Array(B * H);
  const cOut = new Float32Array(B * H);
  const bias = new Float64Array(G);
  for (let j = 0; j < G; j++) bias[j] = (wb ? wb[j] : 0) + (rb ? rb[j] : 0);
  const pre = new Float64Array(G);
  const hb = new Float64Array(H);
  const cb = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    for (let j = 0; j < H; j++) {
      hb[j] = a.h0 ? a.h0[b * H + j] : 0;
      cb[j] = a.c0 ? a.c0[b * H + j] : 0;
    }
    for (let s = 0; s < len; s++) {
      const t = reverse ? len - 1 - s : s;
      pre.set(bias);
      gemvAdd(pre, w, 0, G, I, x, (t * B + b) * I);
      gemvAdd(pre, r, 0, G, H, hb, 0);
      const yo = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const cPrev = cb[j];
        const i = f(cl(pre[j] + (p ? p[j] * cPrev : 0)));
        const fg = a.inputForget ? 1 - i : f(cl(pre[2 * H + j] + (p ? p[2 * H + j] * cPrev : 0)));
        const c = g(cl(pre[3 * H + j]));
        const C = fg * cPrev + i * c;
        const o = f(cl(pre[H + j] + (p ? p[H + j] * C : 0)));
        cb[j] = C;
        const hv = o * hf(C);
        hb[j] = hv;
        y[yo + j] = hv;
      }
    }
    for (let j = 0; j < H; j++) {
      hOut[b * H + j] = hb[j];
      cOut[b * H + j] = cb[j];
    }
  }
  return { y, h: hOut, c: cOut };
}

/** Runs one GRU direction. */
export function gruGenericDirection(a: GatedDirectionArgs): GatedDirectionResult {
  const { x, w, r, wb, rb, lengths, reverse, T, B, I, H } = a;
  const f = activationFunction(a.activations[0]);
  const g = activationFunction(a.activations[1]);
  const cl = clipper(a.clip);
  const y = new Float32Array(T * B * H);
  const hOut = new Float32Array(B * H);
  const xw = new Float64Array(3 * H); // X W^T + Wb, blocks z, r, h
  const hr = new Float64Array(3 * H); // H R^T + Rb (z, r; h block per linear_before_reset)
  const rh = new Float64Array(H); // r ⊙ H (linear_before_reset=0)
  const hb = new Float64Array(H);
  const zg = new Float64Array(H);
  const rg = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    for (let j = 0; j < H; j++) hb[j] = a.h0 ? a.h0[b * H + j] : 0;
    for (let s = 0; s < len; s++) {
      const t = reverse ? len - 1 - s : s;
      for (let j = 0; j < 3 * H; j++) {
        xw[j] = wb ? wb[j] : 0;
        hr[j] = rb ? rb[j] : 0;
      }
      gemvAdd(xw, w, 0, 3 * H, I, x, (t * B + b) * I);
      gemvAdd(hr, r, 0, 2 * H, H, hb, 0);
      for (let j = 0; j < H; j++) {
        zg[j] = f(cl(xw[j] + hr[j]));
        rg[j] = f(cl(xw[H + j] + hr[H + j]));
      }
      const hh = hr.subarray(2 * H);
      if (a.linearBeforeReset) {
        gemvAdd(hh, r, 2 * H, H, H, hb, 0);
        for (let j = 0; j < H; j++) hh[j] *= rg[j];
      } else {
        for (let j = 0; j < H; j++) rh[j] = rg[j] * hb[j];
        gemvAdd(hh, r, 2 * H, H, H, rh, 0);
      }
      const yo = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const n = g(cl(xw[2 * H + j] + hh[j]));
        const hv = (1 - zg[j]) * n + zg[j] * hb[j];
        hb[j] = hv;
        y[yo + j] = hv;
      }
    }
    for (let j = 0; j < H; j++) hOut[b * H + j] = hb[j];
  }
  return { y, h: hOut, c: null };
}
