/**
 * `GRU`: torch.nn.GRU for Node, on the shared recurrent implementation
 * (recurrent_base.ts) and the native GRU cell.
 */
import type { Tensor } from '../tensor.js';
import { registerRecurrent } from './module_recurrent.js';
import type { Module } from './module.js';
import { RNNBase, type RnnCallOptions, type RnnOutput } from './recurrent_base.js';
import { rnnConfig, rnnParameterShapes, type GatedOptions } from './rnn_config.js';
import type { RnnBackwardResult, RnnOutputGrads } from './rnn_functional.js';

/**
 * A gated recurrent unit layer stack with torch.nn.GRU's semantics, names and initialisation:
 * gates r, z, n stacked in that order in `weight_ih_l0` [3H, I], `weight_hh_l0` [3H, H] and the
 * biases [3H]; `n = tanh(W_in x + b_in + r ⊙ (W_hn h' + b_hn))`, `h = (1 - z) ⊙ n + z ⊙ h'`
 * (`b_hn` inside the reset product, as PyTorch and ONNX's `linear_before_reset=1`).
 *
 * `new GRU({ ..., resetAfter: false })` is the other GRU: the reset gate applied to the state
 * before the recurrent product, `n = tanh(W_in x + b_in + W_hn (r ⊙ h') + b_hn)`, as Keras'
 * `reset_after=False` (TensorFlow.js' only GRU) and ONNX's default `linear_before_reset=0`.
 * It is not PyTorch's cell: the parameters have the same names, shapes and gate order, so its
 * state dict loads into `torch.nn.GRU`, but torch computes something else with it. Everything
 * else (lengths, directions, stacking, dropout, model files, ONNX export) is the same; its repr
 * ends with `reset_after=False` and its model files record `resetAfter: false`.
 */
export class GRU extends RNNBase<RnnCallOptions, RnnOutput, RnnOutputGrads, RnnBackwardResult> implements Module<Tensor, RnnOutput, RnnOutputGrads | undefined, RnnBackwardResult> {
  /**
   * Creates a GRU with every parameter drawn from U(-1/√H, 1/√H), as PyTorch does (then
   * `options.init`'s recipe, if any); `options.resetAfter` (default true) picks the cell.
   */
  constructor(options: GatedOptions) {
    super(options, 'GRU');
  }
}

registerRecurrent('GRU', (c) => rnnParameterShapes(rnnConfig({ ...c, seed: 0 }, 'GRU')), (c) => new GRU({ ...(c as unknown as GatedOptions), seed: 0 }));
