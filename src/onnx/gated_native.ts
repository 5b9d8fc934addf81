/**
 * Native dispatch of one direction of an ONNX LSTM or GRU node whose cell is PyTorch's
 * (default activations, no clip, no input_forget, all-zero or no peepholes; GRU with
 * linear_before_reset=1). Returns null when the direction must run in TypeScript.
 */
import type { GatedDirectionArgs, GatedDirectionResult } from './gated_generic.js';
import type { GatedOp } from './gated_op.js';

/** Runs the direction natively, or returns null (then the caller runs the TypeScript kernel). */
export function nativeGatedDirection(op: GatedOp, a: GatedDirectionArgs): Promise<GatedDirectionResult> | null {
  void op;
  void a;
  return null;
}
