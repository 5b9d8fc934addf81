/**
 * Native dispatch of one direction of an ONNX LSTM or GRU node whose cell rnnblas has natively
 * (default activations, no clip, no input_forget, all-zero or no peepholes: the caller checks
 * the attributes; a GRU with linear_before_reset=1 runs PyTorch's cell, with 0 the reset-before
 * cell of `GRU({ resetAfter: false })`): the gate blocks are permuted to PyTorch's order and the
 * direction runs through the functional API on the native core (the reverse direction on copies
 * reversed within each sequence's length). Anything else returns null and runs in TypeScript.
 */
import { rnnConfig } from '../nn/rnn_config.js';
import { rnnForwardAsync } from '../nn/rnn_functional.js';
import type { Tensor } from '../tensor.js';
import type { GatedDirectionArgs, GatedDirectionResult } from './gated_generic.js';
import type { GatedOp } from './gated_op.js';
import { reverseWithinLengths } from './rnn_op.js';

/**
 * For each of PyTorch's gate blocks, the ONNX block it is: LSTM PyTorch i, f, g, o from ONNX
 * i, o, f, c; GRU PyTorch r, z, n from ONNX z, r, h.
 */
export const ONNX_BLOCK_OF_TORCH: Readonly<Record<GatedOp, readonly number[]>> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };

/**
 * Permutes the gate blocks of a [G*H, cols] matrix (or a [G*H] vector with cols = 1):
 * `order[k]` is the source block of destination block k.
 */
export function permuteGateBlocks(src: Float32Array, order: readonly number[], H: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const block = H * cols;
  order.forEach((from, k) => out.set(src.subarray(from * block, (from + 1) * block), k * block));
  return out;
}

/** The inverse permutation of `order`. */
export function inverseOrder(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((from, k) => {
    inv[from] = k;
  });
  return inv;
}

/** Whether this direction's inputs let it run natively (the attributes were checked by the caller). */
export function nativeCapableGated(a: GatedDirectionArgs): boolean {
  if (a.T < 1 || a.B < 1 || a.I < 1 || a.H < 1) return false;
  if (a.lengths && a.lengths.some((l) => l < 1)) return false;
  if (a.p && a.p.some((v) => v !== 0)) return false;
  return true;
}

/** Runs the direction natively, or returns null (then the caller runs the TypeScript kernel). */
export function nativeGatedDirection(op: GatedOp, a: GatedDirectionArgs): Promise<GatedDirectionResult> | null {
  if (!nativeCapableGated(a)) return null;
  return run(op, a);
}

/** Both directions of a bidirectional node from one native call: `y [T,B,2H]` (forward first on the last axis), `h`/`c` `[2,B,H]`. */
export interface NativeBidirectionalResult {
  y: Float32Array;
  h: Float32Array;
  c: Float32Array | null;
}

/**
 * Runs both directions of a bidirectional node in one native call (the core runs the reverse
 * direction itself, within each sequence's length: no reversed copies), or returns null when
 * either direction must run in TypeScript. `fwd` and `rev` share x, lengths and sizes.
 */
export function nativeGatedBidirectional(op: GatedOp, fwd: GatedDirectionArgs, rev: GatedDirectionArgs): Promise<NativeBidirectionalResult> | null {
  if (!nativeCapableGated(fwd) || !nativeCapableGated(rev)) return null;
  return runBidirectional(op, fwd, rev);
}

function torchWeights(op: GatedOp, a: GatedDirectionArgs, suffix: string, into: Record<string, Tensor>): void {
  const { I, H } = a;
  const G = op === 'LSTM' ? 4 : 3;
  const order = ONNX_BLOCK_OF_TORCH[op];
  into[`weight_ih_${suffix}`] = { data: permuteGateBlocks(a.w, order, H, I), shape: [G * H, I] };
  into[`weight_hh_${suffix}`] = { data: permuteGateBlocks(a.r, order, H, H), shape: [G * H, H] };
  if (a.wb && a.rb) {
    into[`bias_ih_${suffix}`] = { data: permuteGateBlocks(a.wb, order, H, 1), shape: [G * H] };
    into[`bias_hh_${suffix}`] = { data: permuteGateBlocks(a.rb, order, H, 1), shape: [G * H] };
  }
}

/** A GRU's cell as a module option: linear_before_reset=1 is PyTorch's (resetAfter true), 0 the reset-before cell. */
function cellOption(op: GatedOp, a: GatedDirectionArgs): { resetAfter?: boolean } {
  return op === 'GRU' ? { resetAfter: a.linearBeforeReset } : {};
}

function stackStates(a: Float32Array | null, b: Float32Array | null, n: number): Float32Array | null {
  if (!a && !b) return null;
  const out = new Float32Array(2 * n);
  if (a) out.set(a, 0);
  if (b) out.set(b, n);
  return out;
}

async function runBidirectional(op: GatedOp, fwd: GatedDirectionArgs, rev: GatedDirectionArgs): Promise<NativeBidirectionalResult> {
  const { T, B, I, H } = fwd;
  const cfg = rnnConfig({ inputSize: I, hiddenSize: H, bias: fwd.wb !== null, bidirectional: true, ...cellOption(op, fwd) }, op);
  const weights: Record<string, Tensor> = {};
  torchWeights(op, fwd, 'l0', weights);
  torchWeights(op, rev, 'l0_reverse', weights);
  const h0 = stackStates(fwd.h0, rev.h0, B * H);
  const c0 = op === 'LSTM' ? stackStates(fwd.c0, rev.c0, B * H) : null;
  const r = await rnnForwardAsync(cfg, weights, { data: fwd.x, shape: [T, B, I] }, {
    h0: h0 ? { data: h0, shape: [2, B, H] } : undefined,
    c0: c0 ? { data: c0, shape: [2, B, H] } : undefined,
    seqLengths: fwd.lengths ?? undefined,
  });
  return { y: r.y.data, h: r.hN.data, c: r.cN ? r.cN.data : null };
}

async function run(op: GatedOp, a: GatedDirectionArgs): Promise<GatedDirectionResult> {
  const { T, B, I, H } = a;
  const cfg = rnnConfig({ inputSize: I, hiddenSize: H, bias: a.wb !== null, ...cellOption(op, a) }, op);
  const weights: Record<string, Tensor> = {};
  torchWeights(op, a, 'l0', weights);
  const x = a.reverse ? reverseWithinLengths(a.x, T, B, I, a.lengths) : a.x;
  const r = await rnnForwardAsync(cfg, weights, { data: x, shape: [T, B, I] }, {
    h0: a.h0 ? { data: a.h0, shape: [1, B, H] } : undefined,
    c0: op === 'LSTM' && a.c0 ? { data: a.c0, shape: [1, B, H] } : undefined,
    seqLengths: a.lengths ?? undefined,
  });
  const y = a.reverse ? reverseWithinLengths(r.y.data, T, B, H, a.lengths) : r.y.data;
  return { y, h: r.hN.data, c: r.cN ? r.cN.data : null };
}
