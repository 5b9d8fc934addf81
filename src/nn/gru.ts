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
 */
export class GRU extends RNNBase<RnnCallOptions, RnnOutput, RnnOutputGrads, RnnBackwardResult> implements Module<Tensor, RnnOutput, RnnOutputGrads | undefined, RnnBackwardResult> {
  /** Creates a GRU with every parameter drawn from U(-1/√H, 1/√H), as PyTorch does (then `options.init`'s recipe, if any). */
  constructor(options: GatedOptions) {
    super(options, 'GRU');
  }
}

registerRecurrent('GRU', (c) => rnnParameterShapes(rnnConfig({ ...c, seed: 0 }, 'GRU')), (c) => new GRU({ ...(c as unknown as GatedOptions), seed: 0 }));
