/**
 * The trainer step: one forward, loss, backward, clipping, finiteness check and optimizer
 * update (and a per-step scheduler step), with what progress reports about it.
 */
import type { TargetKind } from '../data/dataset.js';
import type { Sequential } from '../nn/sequential.js';
import { clipGradNorm, clipGradValue } from '../optim/clip.js';
import type { LRScheduler } from '../optim/lr_scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { IntTensor, Tensor } from '../tensor.js';
import type { TimeMajorModel } from './layout.js';
import { batchLoss, queueBatchLoss, type BatchLoss, type LossName } from './loss.js';
import { batchMetricSums, type MetricName, type MetricSums } from './metrics.js';

/** Thrown by fit when a loss or gradient norm is not finite; the message names the step. */
export class NonFiniteError extends Error {
  /** The step at which it happened (its update was not applied). */
  readonly step: number;
  /** The epoch of that step. */
  readonly epoch: number;
  /** Which quantity: 'loss' or 'gradient norm'. */
  readonly quantity: 'loss' | 'gradient norm';
  /** The value (NaN or ±Infinity). */
  readonly value: number;

  /** @internal */
  constructor(quantity: 'loss' | 'gradient norm', step: number, epoch: number, value: number) {
    super(`non-finite ${quantity} at step ${step} (epoch ${epoch}): ${value}; the update was not applied (lower the learning rate, clip gradients, or check the data)`);
    this.name = 'NonFiniteError';
    this.quantity = quantity;
    this.step = step;
    this.epoch = epoch;
    this.value = value;
  }
}

/** @internal What a trainer step needs, fixed for a fit call. */
export interface StepSetup {
  readonly model: Sequential;
  readonly net: TimeMajorModel;
  readonly loss: LossName;
  readonly target: TargetKind;
  readonly optimizer: Optimizer;
  /** Infinity: measure only. */
  readonly clipNorm: number;
  readonly clipValue: number | null;
  readonly checkFinite: boolean;
  /** Stepped after every update (schedulerStep 'step'). */
  readonly stepScheduler: LRScheduler | null;
  readonly metrics: readonly MetricName[];
  /** The loss gradient's buffer, reused from step to step (backward consumes it within the step). */
  readonly scratch?: { grad: Float32Array | null };
}

/** @internal The outcome of one update. */
export interface StepOutcome {
  /** Mean loss of the batch or chunk. */
  readonly loss: number;
  /** Learning rate the update used. */
  readonly lr: number;
  /** Pre-clip global gradient norm. */
  readonly gradNorm: number;
  /** Whether clipNorm rescaled. */
  readonly clipped: boolean;
  /** This step's metric sums. */
  readonly metrics: MetricSums;
}

/** Whether clipGradNorm rescaled gradients of this norm (its own test: maxNorm / (norm + 1e-6) < 1). */
const maxNormScales = (norm: number, maxNorm: number): boolean => maxNorm / (norm + 1e-6) < 1;

/**
 * @internal One forward/backward/update as step number `n` of `epoch`; returns null when no
 * target counted (no update).
 * @throws NonFiniteError before the update when the loss or gradient norm is not finite.
 */
export async function trainStep(
  s: StepSetup, n: number, epoch: number, x: Tensor | IntTensor, y: Tensor | IntTensor, rnnLengths: Int32Array | null, valid: Int32Array | null, h0: ReturnType<Sequential['lastStates']> | undefined,
): Promise<StepOutcome | null> {
  s.model.zeroGrad();
  const wantCorrect = s.metrics.includes('accuracy');
  const opts = { seqLengths: rnnLengths ?? undefined, h0 };
  // One pool job for the forward, the loss and the backward when the model allows (one thread
  // hand-off per step instead of one per pass, and the head's GEMMs on the team's threads).
  const queued = s.net.forwardQueued ? await s.net.forwardQueued(x, opts) : null;
  let r: BatchLoss;
  let out: Tensor;
  if (queued) {
    out = queued.out;
    const loss = queued.enqueue((job) => queueBatchLoss(s.loss, queued.out, y, s.target, valid, wantCorrect, s.scratch, job));
    await queued.finish(loss ? loss.grad : null);
    if (loss === null) return null;
    r = loss.result();
    // (The backward has run, but no update is applied: the next step zeroes the gradients.)
    if (s.checkFinite && !Number.isFinite(r.loss)) throw new NonFiniteError('loss', n, epoch, r.loss);
  } else {
    // A step without a native job may not pass through the event loop at all: give timers, I/O
    // and an AbortSignal their turn. (A job's await does: the loop serves them while it runs.)
    await new Promise<void>((resolve) => setImmediate(resolve));
    out = await s.net.forward(x, opts);
    const b = batchLoss(s.loss, out, y, s.target, valid, true, wantCorrect, s.scratch);
    if (b === null) return null;
    r = b;
    if (s.checkFinite && !Number.isFinite(r.loss)) throw new NonFiniteError('loss', n, epoch, r.loss);
    await s.net.backward(r.grad);
  }
  const metrics = s.metrics.length > 0 ? batchMetricSums(s.metrics, out, y, s.target, valid, r) : {};
  const params = s.optimizer.params;
  if (s.clipValue !== null) clipGradValue(params, s.clipValue);
  // The norm is always measured (one pass over the gradients): progress reports it.
  const norm = clipGradNorm(params, s.clipNorm);
  if (s.checkFinite && !Number.isFinite(norm)) throw new NonFiniteError('gradient norm', n, epoch, norm);
  const lr = s.optimizer.lr;
  s.optimizer.step();
  if (s.stepScheduler) s.stepScheduler.step();
  return { loss: r.loss, lr, gradNorm: norm, clipped: maxNormScales(norm, s.clipNorm), metrics };
}
