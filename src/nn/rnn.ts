/**
 * `RNN`: torch.nn.RNN for Node (the Elman cell, tanh or ReLU), on the shared
 * recurrent implementation (recurrent_base.ts). Owns its weights and
 * gradients; forward and backward run natively over whole sequences.
 */
import { typeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Module } from './module.js';
import { registerRecurrent } from './module_recurrent.js';
import { RNNBase, type RnnCallOptions, type RnnOutput } from './recurrent_base.js';
import { isRnnConfig, rnnConfig, rnnParameterShapes as shapesOfConfig, type RnnConfig, type RnnOptions } from './rnn_config.js';
import type { RnnBackwardResult, RnnOutputGrads } from './rnn_functional.js';

export type { RnnCallOptions, RnnOutput, RecurrentBackwardOptions } from './recurrent_base.js';

/**
 * An Elman RNN with torch.nn.RNN's semantics, names and initialisation:
 * `h(t) = act(x(t) W_ih^T + b_ih + h(t-1) W_hh^T + b_hh)`, act tanh or ReLU.
 *
 * `forward` keeps what `backward` needs; `backward` accumulates into the
 * parameters' `grad`. Do not modify `y` or the inputs between the two.
 */
export class RNN extends RNNBase<RnnCallOptions, RnnOutput, RnnOutputGrads, RnnBackwardResult> implements Module<Tensor, RnnOutput, RnnOutputGrads | undefined, RnnBackwardResult> {
  /**
   * Creates an RNN with weights drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does, then
   * applies `options.init`'s recipe, if any (e.g. identity recurrent weights for an IRNN).
   */
  constructor(options: RnnOptions) {
    super(options, 'RNN');
  }
}

/**
 * Parameter names and shapes of a recurrent configuration, in PyTorch's order (weight_ih,
 * weight_hh, bias_ih, bias_hh; forward then reverse; layer by layer; gate blocks stacked for
 * LSTM and GRU).
 *
 * @param cfg - A configuration from {@link rnnConfig} (`rnnParameterShapes(rnnConfig(options))`).
 * @throws TypeError when `cfg` is not a configuration `rnnConfig` made (options are not
 *   completed here: a plain `{ inputSize, hiddenSize }` would silently lack `numLayers`).
 */
export function rnnParameterShapes(cfg: RnnConfig): Array<[string, number[]]> {
  if (!isRnnConfig(cfg)) {
    throw typeError('cfg', 'a configuration made by rnnConfig(options) (call rnnParameterShapes(rnnConfig(options)))', cfg);
  }
  return shapesOfConfig(cfg);
}

registerRecurrent('RNN', (c) => shapesOfConfig(rnnConfig({ ...c, seed: 0 })), (c) => new RNN({ ...(c as unknown as RnnOptions), seed: 0 }));
