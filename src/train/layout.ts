/**
 * The data layout a model takes. The training loop gathers time-major batches
 * (`[T, B, ...]`); a model whose RNN layers (and LastStep) were built with
 * `batchFirst: true` takes `[B, T, ...]` instead, so its inputs are transposed
 * on the way in and its per-step outputs (and their gradients) on the way out.
 */
import { rangeError } from '../errors.js';
import { LastStep } from '../nn/last_step.js';
import type { Sequential } from '../nn/sequential.js';
import type { IntTensor, Tensor } from '../tensor.js';

/** Whether the model takes batch-first sequences; its layers must agree. */
export function isBatchFirst(model: Sequential, name = 'model'): boolean {
  // Every recurrent layer (RNN, LSTM, GRU) and LastStep, in layer order.
  const recurrent = new Set<unknown>(model.recurrentLayers());
  const flags = model.layers.flatMap((l) =>
    recurrent.has(l) ? [(l as ReturnType<Sequential['recurrentLayers']>[number]).config.batchFirst] : l instanceof LastStep ? [l.batchFirst] : [],
  );
  if (flags.length === 0) return false;
  if (flags.some((f) => f !== flags[0])) {
    throw rangeError(name, 'recurrent (RNN, LSTM, GRU) and LastStep layers that agree on batchFirst', `a mix (${flags.map((f) => (f ? 'batch-first' : 'time-major')).join(', ')})`);
  }
  return flags[0];
}

/** [A, B, ...rest] -> [B, A, ...rest] (a copy; ids stay ids). */
export function swapLeading<T extends Tensor | IntTensor>(t: T): T {
  const [A, B, ...rest] = t.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const src = t.data;
  const out = new (src.constructor as { new (n: number): typeof src })(src.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      out.set(src.subarray((a * B + b) * inner, (a * B + b + 1) * inner) as never, (b * A + a) * inner);
    }
  }
  return { data: out, shape: [B, A, ...rest] } as unknown as T;
}

/** A model's forward and backward with time-major data in and out, whatever its layout. */
export interface TimeMajorModel {
  forward(x: Tensor | IntTensor, options: Parameters<Sequential['forwardAsync']>[1]): Promise<Tensor>;
  backward(gy: Tensor): Promise<void>;
  /** @internal A training step as one native job (time-major models only; null: not this model). */
  forwardQueued?: Sequential['forwardQueued'];
}

/** Wraps `model` so the training loop can keep its batches time-major. */
export function timeMajor(model: Sequential): TimeMajorModel {
  if (!isBatchFirst(model)) {
    return { forward: (x, o) => model.forwardAsync(x, o), backward: (g) => model.backwardAsync(g), forwardQueued: (x, o) => model.forwardQueued(x, o) };
  }
  return {
    forward: async (x, o) => {
      const out = await model.forwardAsync(swapLeading(x), o);
      return out.shape.length === 3 ? swapLeading(out) : out;
    },
    backward: (g) => model.backwardAsync(g.shape.length === 3 ? swapLeading(g) : g),
  };
}
