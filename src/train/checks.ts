/**
 * Argument checks shared by fit, evaluate and predict: the model, the kind of input it
 * takes, the loss for the targets, truncated BPTT against the model, callbacks and signals.
 */
import type { DatasetInfo } from '../data/dataset.js';
import { describe, rangeError, typeError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { LastStep } from '../nn/last_step.js';
import { RNNBase } from '../nn/recurrent_base.js';
import { Sequential } from '../nn/sequential.js';
import { checkInt, checkOneOf } from '../validate.js';
import { lossAccepts, perStep, type LossName } from './loss.js';

/** The model is a Sequential. */
export function checkModel(model: unknown): Sequential {
  if (model instanceof RNNBase) {
    const m = model.config.mode;
    const D = model.config.bidirectional ? 2 : 1;
    throw new TypeError(
      `Expected a Sequential for model but received a bare ${m}: fit, evaluate and predict train a whole model with its output layer, ` +
        `e.g. new Sequential([${m.toLowerCase()}, new Linear({ inFeatures: ${D * model.config.hiddenSize}, outFeatures })]) ` +
        `(add new LastStep() before the Linear for one prediction per sequence)`,
    );
  }
  if (!(model instanceof Sequential)) throw typeError('model', 'a Sequential', model);
  return model;
}

/** An optional function. */
export function checkFn<F>(name: string, v: unknown): F | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw typeError(name, 'a function', v);
  return v as F;
}

/** Ids feed a model starting with Embedding, float features any other: say so before a layer fails mid-step. */
export function checkInputKind(name: string, model: Sequential, info: DatasetInfo): void {
  const embeds = model.layers[0] instanceof Embedding;
  if (embeds && !info.ids) throw rangeError(name, 'ids [N, T] in an IntTensor (the model starts with an Embedding)', 'float features');
  if (!embeds && info.ids) throw rangeError(name, 'float features [N, T, F] in a Tensor (the model does not start with an Embedding)', 'ids');
}

/** An optional AbortSignal. */
export function checkSignal(name: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || typeof (v as AbortSignal).aborted !== 'boolean') throw typeError(name, 'an AbortSignal', v);
  return v as AbortSignal;
}

/** Checks that TBPTT fits the model and data (per-step targets, unidirectional layers). */
export function checkTbptt(name: string, k: unknown, model: Sequential, info: DatasetInfo): number | null {
  if (k === undefined) return null;
  const n = checkInt(name, k, 1);
  if (!perStep(info.target)) throw rangeError(name, 'no tbptt for per-sequence targets (TBPTT needs a target at every step)', n);
  if (model.layers.some((l) => l instanceof LastStep)) throw rangeError(name, 'no tbptt for a model ending in LastStep', n);
  if (model.recurrentLayers().some((r) => r.config.bidirectional)) {
    throw rangeError(name, 'no tbptt with bidirectional RNN layers (their reverse pass needs the whole sequence)', n);
  }
  return n;
}

/** The loss, which must suit the targets of `what`. */
export function checkLossFor(name: string, loss: unknown, info: DatasetInfo, what: string): LossName {
  const l = checkOneOf(name, loss, ['crossEntropy', 'mse'] as const);
  if (!lossAccepts(l, info.target)) {
    throw rangeError(
      name,
      l === 'crossEntropy' ? `'mse' for the float targets of ${what}` : `'crossEntropy' for the class-id targets of ${what}`,
      describe(l),
    );
  }
  return l;
}
