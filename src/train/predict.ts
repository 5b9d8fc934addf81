/**
 * `predict`: a model's outputs for example-major inputs, in evaluation mode.
 */
import { checkDataset, gatherBatch, splitBatches, type SequenceDataset } from '../data/dataset.js';
import { rangeError, typeError } from '../errors.js';
import type { Sequential } from '../nn/sequential.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import { checkInputKind, checkModel } from './checks.js';
import { timeMajor } from './layout.js';

/** Options of {@link predict}. */
export interface PredictOptions {
  /** Examples per forward pass (default 64). */
  batchSize?: number;
  /** Valid length of each example (1..T); outputs past it are zero. */
  seqLengths?: Int32Array;
}

/**
 * Runs `model` over example-major inputs in evaluation mode (the mode is restored
 * afterwards) and returns example-major outputs: `[N, T, C]` for a per-step model,
 * `[N, C]` for one ending in LastStep.
 *
 * @param model - The model.
 * @param x - Inputs `[N, T, F]` or ids `[N, T]`.
 * @param options - `batchSize`, `seqLengths`.
 * @returns The outputs.
 */
export async function predict(model: Sequential, x: Tensor | IntTensor, options: PredictOptions = {}): Promise<Tensor> {
  checkModel(model);
  const o = checkOptions<PredictOptions>('options', options, ['batchSize', 'seqLengths']);
  const batchSize = checkInt('options.batchSize', o.batchSize ?? 64, 1);
  if (x === null || typeof x !== 'object') throw typeError('x', 'a Tensor [N, T, F] or an IntTensor [N, T]', x);
  // Reuse the dataset checks with a placeholder target of one class per sequence.
  const N = Array.isArray(x.shape) ? x.shape[0] : 0;
  const ds: SequenceDataset = { x, y: { data: new Int32Array(N), shape: [N] }, ...(o.seqLengths !== undefined ? { seqLengths: o.seqLengths } : {}) };
  const info = checkDataset('input', ds);
  checkInputKind('x', model, info);
  const net = timeMajor(model);
  const wasTraining = model.training;
  model.eval();
  let out: Float32Array | null = null;
  let outShape: number[] = [];
  try {
    for (const idx of splitBatches(Array.from({ length: N }, (_, i) => i), batchSize)) {
      const batch = gatherBatch(ds, info, idx);
      const lengths = batch.seqLengths;
      const y = await net.forward(batch.x, { seqLengths: lengths ?? undefined, noGrad: true });
      const B = idx.length;
      if (y.shape.length === 2) {
        const C = y.shape[1];
        if (!out) {
          out = new Float32Array(N * C);
          outShape = [N, C];
        }
        out.set(y.data, idx[0] * C);
      } else if (y.shape.length === 3) {
        const [Tb, , C] = y.shape;
        if (!out) {
          out = new Float32Array(N * info.steps * C);
          outShape = [N, info.steps, C];
        }
        // Time-major [Tb, B, C] back to example-major rows; steps past each length stay zero
        // (a layer after the RNN, e.g. Linear's bias, would make them non-zero).
        for (let b = 0; b < B; b++) {
          const len = lengths ? lengths[b] : Tb;
          for (let t = 0; t < len; t++) out.set(y.data.subarray((t * B + b) * C, (t * B + b + 1) * C), ((idx[b] * info.steps) + t) * C);
        }
      } else {
        throw rangeError('model output', 'a tensor [T, B, C] or [B, C]', `shape [${y.shape.join(', ')}]`);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { data: out as Float32Array, shape: outShape };
}
