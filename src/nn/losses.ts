/**
 * Loss functions returning the loss value and its gradient with respect to the input, as
 * `torch.nn.functional.cross_entropy` and `mse_loss`, with an optional padding mask.
 * Everything is computed in float64; the gradient is returned as float32.
 */
import { rangeError, typeError } from '../errors.js';
import { native, type SoftmaxCeCall, type SquaredErrorCall } from '../native/binding.js';
import { freshFloats } from '../native/fresh.js';
import { type Tensor, checkTensor } from '../tensor.js';
import { checkInt, checkOneOf, checkOptions } from '../validate.js';

/** How per-element losses are combined. */
export type Reduction = 'mean' | 'sum';

/** A loss value and d(loss)/d(input), shaped like the input. */
export interface LossResult {
  /** The reduced loss (float64). */
  loss: number;
  /** The gradient of `loss` with respect to the input, same shape as the input. */
  grad: Tensor;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Target value that contributes nothing and is not counted by 'mean' (default -100). */
  ignoreIndex?: number;
  /** 'mean' (default): divide by the number of counted targets; 'sum': add them up. */
  reduction?: Reduction;
  /** One byte per row of the logits; 0 marks padding, which contributes nothing (its target is not checked). */
  mask?: Uint8Array;
}

/** Options of {@link mseLoss}. */
export interface MseLossOptions {
  /** 'mean' (default): divide by the number of unmasked elements; 'sum': add them up. */
  reduction?: Reduction;
  /**
   * One byte per row of the last axis (length = numel / lastDim, the product of the leading
   * dimensions); 0 marks padding, whose elements contribute nothing.
   */
  mask?: Uint8Array;
}

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum'];

function checkMask(name: string, mask: unknown, length: number, what: string): Uint8Array | null {
  if (mask === undefined) return null;
  if (!(mask instanceof Uint8Array)) throw typeError(name, 'a Uint8Array', mask);
  if (mask.length !== length) throw rangeError(name, `${length} entries (${what})`, mask);
  return mask;
}

/**
 * Softmax cross-entropy of `logits` `[N, C]` against class indices `targets` `[N]`, as
 * `torch.nn.functional.cross_entropy` (no class weights, no label smoothing). Uses
 * log-sum-exp with the row maximum subtracted, so large logits stay finite.
 *
 * 'mean' divides by the number of rows that are neither ignored nor masked; if there are
 * none the loss is NaN and the gradient zero, as in PyTorch.
 *
 * @param logits - Unnormalised scores, shape `[N, C]`.
 * @param targets - N class indices in `0..C-1`, or `ignoreIndex`.
 * @param options - `ignoreIndex`, `reduction`, `mask`.
 * @returns The loss and d(loss)/d(logits) `[N, C]`.
 * @throws RangeError naming the position for a target outside `0..C-1` (other than
 * `ignoreIndex`) or for a non-integer target; TypeError / RangeError for other bad arguments.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array | ArrayLike<number>, options: CrossEntropyOptions = {}): LossResult {
  return crossEntropyInto(logits, targets, options, null);
}

/**
 * @internal crossEntropy writing the gradient into `out` when it has exactly N*C floats (a
 * buffer the caller reuses across steps: the training loop's, consumed by backward before the
 * next step), else into a new array.
 */
export function crossEntropyInto(logits: Tensor, targets: Int32Array | ArrayLike<number>, options: CrossEntropyOptions, out: Float32Array | null): LossResult {
  const p = prepareCrossEntropy(logits, targets, options, out);
  return p.result(native.softmaxCrossEntropy(p.call.logits, p.call.targets, p.call.mask, p.call.N, p.call.C, p.call.ignoreIndex, p.call.scale, p.call.grad));
}

/** @internal A checked loss: the native call's arguments, and the result from its summed loss. */
export interface PreparedLoss<Call> {
  /** The native call's arguments (sizes checked; every target valid). */
  readonly call: Call;
  /** The loss and gradient, once the call has returned `total`. */
  result(total: number): LossResult;
}

/**
 * @internal crossEntropyInto's checks and arguments, without running it (the training step queues
 * the call in its native job). `out` is reused as the gradient when it has N*C floats.
 */
export function prepareCrossEntropy(logits: Tensor, targets: Int32Array | ArrayLike<number>, options: CrossEntropyOptions, out: Float32Array | null): PreparedLoss<SoftmaxCeCall> {
  const x = checkTensor('logits', logits, [-1, -1]);
  const [N, C] = x.shape;
  const o = checkOptions<CrossEntropyOptions>('options', options, ['ignoreIndex', 'reduction', 'mask']);
  const ignoreIndex = checkInt('options.ignoreIndex', o.ignoreIndex ?? -100, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const reduction = checkOneOf('options.reduction', o.reduction ?? 'mean', REDUCTIONS);
  const mask = checkMask('options.mask', o.mask, N, 'one per row of logits');
  if (targets === null || typeof targets !== 'object' || typeof (targets as { length?: unknown }).length !== 'number') {
    throw typeError('targets', 'an Int32Array or an array of class indices', targets);
  }
  if (targets.length !== N) throw rangeError('targets', `${N} class indices (one per row of logits)`, targets);

  // Validate every target before computing anything.
  let count = 0;
  for (let n = 0; n < N; n++) {
    if (mask !== null && mask[n] === 0) continue;
    const t: unknown = targets[n];
    if (typeof t !== 'number') throw typeError(`targets[${n}]`, 'a class index (a number)', t);
    if (t === ignoreIndex) continue;
    if (!Number.isInteger(t) || t < 0 || t >= C) {
      throw rangeError(`targets[${n}]`, `a class index in 0..${C - 1} (or ignoreIndex ${ignoreIndex})`, t);
    }
    count++;
  }

  // The softmax and its gradient run natively (vectorised exp, float64 sums).
  // Every row of grad is written (skipped rows get zeros), so a reused buffer needs no clearing.
  const grad = out !== null && out.length === N * C ? out : freshFloats(N * C);
  const scale = reduction === 'mean' ? 1 / count : 1;
  // Targets were validated above: each counted one is in 0..C-1; the rest
  // become one int32 "ignore" code (the ignoreIndex itself when it fits).
  const fits = ignoreIndex >= -(2 ** 31) && ignoreIndex < 2 ** 31;
  const clampedIgnore = fits ? ignoreIndex : -1;
  let ids: Int32Array;
  if (targets instanceof Int32Array && fits) {
    ids = targets;
  } else {
    ids = new Int32Array(N);
    for (let n = 0; n < N; n++) {
      const t = targets[n];
      ids[n] = (mask !== null && mask[n] === 0) || t === ignoreIndex ? clampedIgnore : t;
    }
  }
  return {
    call: { logits: x.data, targets: ids, mask, N, C, ignoreIndex: clampedIgnore, scale, grad },
    result: (total) => ({ loss: reduction === 'mean' ? total / count : total, grad: { data: grad, shape: Object.freeze([N, C]) } }),
  };
}

/**
 * Mean squared error `(pred − target)²`, as `torch.nn.functional.mse_loss` (shapes must be
 * equal; no broadcasting). 'mean' divides by the number of unmasked elements; with none the
 * loss is NaN (as PyTorch on an empty tensor) and the gradient zero.
 *
 * @param pred - Predictions, any shape.
 * @param target - Targets, the shape of `pred`.
 * @param options - `reduction`, `mask` (one entry per row of the last axis).
 * @returns The loss and d(loss)/d(pred), shaped like `pred`.
 * @throws TypeError / RangeError for bad arguments.
 */
export function mseLoss(pred: Tensor, target: Tensor, options: MseLossOptions = {}): LossResult {
  const p = prepareMse(pred, target, options, null);
  const c = p.call;
  // Zero-size tensors have nothing to sum (and the kernel wants sizes >= 1).
  return p.result(c.rows > 0 && c.inner > 0 ? native.squaredError(c.pred, c.target, c.mask, c.rows, c.inner, c.scale, c.grad) : 0);
}

/**
 * @internal mseLoss's checks and arguments, without running it (see prepareCrossEntropy); `out`
 * is reused as the gradient when it has as many floats as `pred`.
 */
export function prepareMse(pred: Tensor, target: Tensor, options: MseLossOptions, out: Float32Array | null): PreparedLoss<SquaredErrorCall> {
  const anyShape = (v: unknown): number[] => {
    const s = v !== null && typeof v === 'object' ? (v as { shape?: unknown }).shape : undefined;
    return Array.isArray(s) ? s.map(() => -1) : [];
  };
  const p = checkTensor('pred', pred, anyShape(pred));
  const t = checkTensor('target', target, p.shape);
  const o = checkOptions<MseLossOptions>('options', options, ['reduction', 'mask']);
  const reduction = checkOneOf('options.reduction', o.reduction ?? 'mean', REDUCTIONS);
  const nd = p.shape.length;
  const inner = nd === 0 ? 1 : p.shape[nd - 1];
  let rows = 1;
  for (let i = 0; i < nd - 1; i++) rows *= p.shape[i];
  const mask = checkMask('options.mask', o.mask, rows, `one per row of the last axis of shape [${p.shape.join(', ')}]`);

  let count = 0;
  for (let r = 0; r < rows; r++) if (mask === null || mask[r] !== 0) count += inner;
  const scale = reduction === 'mean' ? 2 / count : 2;
  // A reused buffer needs no clearing: every element of grad is written (masked rows get zeros).
  const grad = out !== null && out.length === p.data.length ? out : freshFloats(p.data.length);
  return {
    call: { pred: p.data, target: t.data, mask, rows, inner, scale, grad },
    result: (total) => ({ loss: reduction === 'mean' ? total / count : total, grad: { data: grad, shape: Object.freeze([...p.shape]) } }),
  };
}
