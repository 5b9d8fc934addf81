/**
 * The training loop's loss over one batch (or one TBPTT chunk): picks the
 * loss for the dataset's target kind, builds the padding mask from the valid
 * lengths, and counts what the mean is over (for exact dataset-wide means).
 */
import type { TargetKind } from '../data/dataset.js';
import { rangeError } from '../errors.js';
import { freshNativeFloats } from '../native/fresh.js';
import type { NativeJob } from '../native/job.js';
import { crossEntropyInto, mseLoss, prepareCrossEntropy, prepareMse } from '../nn/losses.js';
import type { IntTensor, Tensor } from '../tensor.js';

/** The losses `fit` and `evaluate` offer. */
export type LossName = 'crossEntropy' | 'mse';

/** The loss of one batch. */
export interface BatchLoss {
  /** Mean over the counted positions (class targets) or elements (mse). */
  readonly loss: number;
  /** What the mean is over. */
  readonly count: number;
  /** d loss / d output, shaped like the output. */
  readonly grad: Tensor;
  /** Counted positions whose arg-max is the target (class targets only). */
  readonly correct: number;
}

const IGNORE = -100;

/** Which target kinds a loss accepts. */
export function lossAccepts(loss: LossName, target: TargetKind): boolean {
  return loss === 'crossEntropy' ? target === 'classPerStep' || target === 'classPerSequence' : target === 'valuePerStep' || target === 'valuePerSequence';
}

/** Whether the targets have a value per step. */
export function perStep(target: TargetKind): boolean {
  return target === 'classPerStep' || target === 'valuePerStep';
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Checks the model output against the batch targets, with a message that says
 * what kind of model the targets need.
 */
function checkOutput(out: Tensor, y: Tensor | IntTensor, target: TargetKind): void {
  const ys = y.shape;
  let ok: boolean;
  let want: string;
  switch (target) {
    case 'classPerStep':
      ok = out.shape.length === 3 && out.shape[0] === ys[0] && out.shape[1] === ys[1] && out.shape[2] >= 1;
      want = `logits [T, B, C] = [${ys[0]}, ${ys[1]}, C] (one per step, as the targets)`;
      break;
    case 'classPerSequence':
      ok = out.shape.length === 2 && out.shape[0] === ys[0] && out.shape[1] >= 1;
      want = `logits [B, C] = [${ys[0]}, C] (one per sequence, as the targets: end the model in LastStep)`;
      break;
    case 'valuePerStep':
      ok = out.shape.length === 3 && out.shape.every((d, i) => d === ys[i]);
      want = `predictions ${shapeText(ys)} (one per step, as the targets)`;
      break;
    default:
      ok = out.shape.length === 2 && out.shape.every((d, i) => d === ys[i]);
      want = `predictions ${shapeText(ys)} (one per sequence, as the targets: end the model in LastStep)`;
  }
  if (!ok) throw rangeError('model output', want, `an output of shape ${shapeText(out.shape)}`);
}

/** The rows the loss runs over, and the padding mask from the valid lengths (per-step targets). */
function lossRows(out: Tensor, target: TargetKind, valid: Int32Array | null): { rows: number; C: number; mask: Uint8Array | undefined } {
  const step = perStep(target);
  const T = step ? out.shape[0] : 1;
  const B = step ? out.shape[1] : out.shape[0];
  const C = out.shape[out.shape.length - 1];
  let mask: Uint8Array | undefined;
  if (step && valid) {
    mask = new Uint8Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = t < valid[b] ? 1 : 0;
  }
  return { rows: T * B, C, mask };
}

/** Class targets that count (not padding, not ignored). */
function countedTargets(ids: Int32Array, mask: Uint8Array | undefined, rows: number): number {
  let count = 0;
  for (let r = 0; r < rows; r++) if ((!mask || mask[r]) && ids[r] !== IGNORE) count++;
  return count;
}

/** Counted rows whose arg-max is the target. */
function countCorrect(d: Float32Array, ids: Int32Array, mask: Uint8Array | undefined, rows: number, C: number): number {
  let correct = 0;
  for (let i = 0; i < rows; i++) {
    if ((mask && !mask[i]) || ids[i] === IGNORE) continue;
    let best = 0;
    for (let c = 1; c < C; c++) if (d[i * C + c] > d[i * C + best]) best = c;
    if (best === ids[i]) correct++;
  }
  return correct;
}

function unmaskedRows(mask: Uint8Array | undefined, rows: number): number {
  if (!mask) return rows;
  let n = 0;
  for (let i = 0; i < rows; i++) n += mask[i];
  return n;
}

/**
 * The loss of a batch's output against its targets; positions at or past
 * `valid[b]` (steps of sequence b) contribute nothing. Returns null when no
 * position counts (all padding or ignored), where the mean is undefined.
 *
 * @param loss - Which loss.
 * @param out - The model output, time-major.
 * @param y - The batch targets (Batch.y).
 * @param target - The dataset's target kind.
 * @param valid - Valid steps per sequence (0..T), or null for all.
 * @param wantGrad - Whether the gradient is needed (false in evaluation).
 * @param wantCorrect - Whether to count correct arg-maxes (a pass over the logits; 0 when false).
 * @param scratch - Cross-entropy: where the gradient goes when the shape repeats (`scratch.grad`,
 * replaced when it does not fit); the caller must be done with the previous step's gradient.
 */
export function batchLoss(loss: LossName, out: Tensor, y: Tensor | IntTensor, target: TargetKind, valid: Int32Array | null, wantGrad = true, wantCorrect = true, scratch?: { grad: Float32Array | null }): BatchLoss | null {
  checkOutput(out, y, target);
  const { rows, C, mask } = lossRows(out, target, valid);
  if (loss === 'crossEntropy') {
    const ids = (y as IntTensor).data;
    const count = countedTargets(ids, mask, rows);
    if (count === 0) return null;
    const r = crossEntropyInto({ data: out.data, shape: [rows, C] }, ids, mask ? { mask } : {}, scratch?.grad ?? null);
    if (scratch) scratch.grad = r.grad.data;
    const correct = wantCorrect ? countCorrect(out.data, ids, mask, rows, C) : 0;
    return { loss: r.loss, count, grad: wantGrad ? { data: r.grad.data, shape: out.shape } : r.grad, correct };
  }
  const countRows = unmaskedRows(mask, rows);
  if (countRows === 0) return null;
  const r = mseLoss(out, y as Tensor, mask ? { mask } : {});
  return { loss: r.loss, count: countRows * C, grad: r.grad, correct: 0 };
}

/** @internal A training step's loss queued in its native job: the gradient is written when the job runs. */
export interface QueuedBatchLoss {
  /** d loss / d output, shaped like the output (written by the job). */
  readonly grad: Tensor;
  /** After the job ran: what batchLoss returns (the arg-max count from the output then). */
  result(): BatchLoss;
}

/**
 * @internal batchLoss with its native call queued in `job`, after the forward calls that write
 * `out` (a training step's one job); null when no position counts. The gradient goes to
 * `scratch.grad` when it fits, else to a new native-owned buffer (kept there).
 */
export function queueBatchLoss(loss: LossName, out: Tensor, y: Tensor | IntTensor, target: TargetKind, valid: Int32Array | null, wantCorrect: boolean, scratch: { grad: Float32Array | null } | undefined, job: NativeJob): QueuedBatchLoss | null {
  checkOutput(out, y, target);
  const { rows, C, mask } = lossRows(out, target, valid);
  const n = rows * C;
  // Every element is written by the loss call (masked rows get zeros).
  const reuse = scratch?.grad && scratch.grad.length === n ? scratch.grad : freshNativeFloats(n);
  if (scratch) scratch.grad = reuse;
  const total = new Float64Array(1);
  if (loss === 'crossEntropy') {
    const ids = (y as IntTensor).data;
    const count = countedTargets(ids, mask, rows);
    if (count === 0) return null;
    const p = prepareCrossEntropy({ data: out.data, shape: [rows, C] }, ids, mask ? { mask } : {}, reuse);
    job.push({ op: 'softmaxCrossEntropy', ...p.call, loss: total });
    return {
      grad: { data: p.call.grad, shape: out.shape },
      result: () => {
        const r = p.result(total[0]);
        return { loss: r.loss, count, grad: { data: r.grad.data, shape: out.shape }, correct: wantCorrect ? countCorrect(out.data, ids, mask, rows, C) : 0 };
      },
    };
  }
  const countRows = unmaskedRows(mask, rows);
  if (countRows === 0) return null;
  const p = prepareMse(out, y as Tensor, mask ? { mask } : {}, reuse);
  // Zero-size outputs have nothing to sum (and the kernel wants sizes >= 1).
  if (p.call.rows > 0 && p.call.inner > 0) job.push({ op: 'squaredError', ...p.call, loss: total });
  return {
    grad: { data: p.call.grad, shape: out.shape },
    result: () => {
      const r = p.result(total[0]);
      return { loss: r.loss, count: countRows * C, grad: r.grad, correct: 0 };
    },
  };
}
