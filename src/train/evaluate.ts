/**
 * `evaluate`: the mean loss (and metrics) of a model over a dataset, in evaluation mode.
 */
import { checkDataset, gatherBatch, splitBatches, type SequenceDataset } from '../data/dataset.js';
import { typeError } from '../errors.js';
import type { Sequential } from '../nn/sequential.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkBool, checkInt, checkOptions } from '../validate.js';
import { checkInputKind, checkLossFor, checkModel, checkTbptt } from './checks.js';
import { timeMajor } from './layout.js';
import { batchLoss, queueBatchLoss, type BatchLoss, type LossName } from './loss.js';
import { addSums, batchMetricSums, checkMetrics, meanOf, type MetricName, type MetricSums } from './metrics.js';
import { chunkLengths, sliceTime, tbpttChunks } from './tbptt.js';

/** What {@link evaluate} returns. */
export interface EvaluateResult {
  /** Mean loss over every counted position (or element, for mse) of the dataset. */
  readonly loss: number;
  /** Share of counted positions whose arg-max is the target (class targets: always). */
  readonly accuracy?: number;
  /** Mean absolute error over the counted elements (float targets, when `metrics` includes 'mae'). */
  readonly mae?: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** 'crossEntropy' for class-id targets, 'mse' for float targets. */
  loss: LossName;
  /** Examples per forward pass (default 64). */
  batchSize?: number;
  /** Run each batch in chunks of this many steps, as fit's tbptt. */
  tbptt?: number;
  /** With tbptt: carry the state between chunks (default true). */
  carryState?: boolean;
  /** Metrics to compute besides the loss: 'accuracy' (class targets; always reported for them) or 'mae' (float targets). */
  metrics?: MetricName[];
}

/**
 * The mean loss (and accuracy, for class targets; mae when asked) of `model` over `data`,
 * in evaluation mode (no dropout); the model's mode is restored afterwards. The mean is over
 * all counted positions of the dataset, not an average of batch means.
 *
 * @param model - The model.
 * @param data - The dataset.
 * @param options - `loss`, `batchSize`, `tbptt`, `carryState`, `metrics`.
 * @returns `{ loss, accuracy?, mae? }`.
 */
export async function evaluate(model: Sequential, data: SequenceDataset, options: EvaluateOptions): Promise<EvaluateResult> {
  checkModel(model);
  const info = checkDataset('data', data);
  checkInputKind('data.x', model, info);
  if (options === undefined) throw typeError('options', 'an options object with loss', options);
  const o = checkOptions<EvaluateOptions>('options', options, ['loss', 'batchSize', 'tbptt', 'carryState', 'metrics']);
  const loss = checkLossFor('options.loss', o.loss, info, 'data');
  const batchSize = checkInt('options.batchSize', o.batchSize ?? 64, 1);
  const tbptt = checkTbptt('options.tbptt', o.tbptt, model, info);
  const carry = checkBool('options.carryState', o.carryState ?? true);
  const metrics = checkMetrics('options.metrics', o.metrics, info.target);
  return evaluateChecked(model, data, loss, batchSize, tbptt, carry, metrics);
}

/** @internal evaluate without the argument checks (fit's validation). */
export async function evaluateChecked(
  model: Sequential, data: SequenceDataset, loss: LossName, batchSize: number, tbptt: number | null, carry: boolean, metrics: readonly MetricName[] = [],
): Promise<EvaluateResult> {
  const info = checkDataset('data', data);
  const net = timeMajor(model);
  const wasTraining = model.training;
  const extra = metrics.filter((m) => m !== 'accuracy');
  model.eval();
  let sum = 0;
  let count = 0;
  let correct = 0;
  const sums: MetricSums = {};
  const add = (r: BatchLoss | null, out: Tensor, y: Tensor | IntTensor, valid: Int32Array | null): void => {
    if (r === null) return;
    sum += r.loss * r.count;
    count += r.count;
    correct += r.correct;
    if (extra.length > 0) addSums(sums, batchMetricSums(extra, out, y, info.target, valid, r));
  };
  const scratch = { grad: null };
  // One pool job for the forward and the loss when the model allows (as fit's step), else the
  // forward's own jobs and the loss on this thread.
  const run = async (x: Tensor | IntTensor, y: Tensor | IntTensor, lengths: Int32Array | null, valid: Int32Array | null, h0: ReturnType<Sequential['lastStates']> | undefined): Promise<void> => {
    const opts = { seqLengths: lengths ?? undefined, h0, noGrad: true };
    const queued = net.forwardQueued ? await net.forwardQueued(x, opts) : null;
    if (!queued) {
      const out = await net.forward(x, opts);
      add(batchLoss(loss, out, y, info.target, valid, false), out, y, valid);
      return;
    }
    const l = queued.enqueue((job) => queueBatchLoss(loss, queued.out, y, info.target, valid, true, scratch, job));
    await queued.finish(null);
    add(l ? l.result() : null, queued.out, y, valid);
  };
  try {
    for (const idx of splitBatches(Array.from({ length: info.size }, (_, i) => i), batchSize)) {
      const b = gatherBatch(data, info, idx);
      if (tbptt === null) {
        await run(b.x, b.y, b.seqLengths, b.seqLengths, undefined);
        continue;
      }
      let states: ReturnType<Sequential['lastStates']> | undefined;
      for (const { start, end } of tbpttChunks(b.x.shape[0], tbptt)) {
        const lens = chunkLengths(b.seqLengths, start, end, idx.length);
        await run(sliceTime(b.x, start, end), sliceTime(b.y, start, end), lens.rnn, lens.valid, states);
        if (carry) states = model.lastStates();
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const mean = count > 0 ? sum / count : NaN;
  const res: { loss: number; accuracy?: number; mae?: number } = { loss: mean };
  if (loss === 'crossEntropy') res.accuracy = count > 0 ? correct / count : NaN;
  if (extra.includes('mae')) res.mae = meanOf(sums, ['mae']).mae;
  return res;
}
