/**
 * `LSTM`: torch.nn.LSTM for Node, on the shared recurrent implementation
 * (recurrent_base.ts) and the native LSTM cell.
 */
import type { Tensor } from '../tensor.js';
import { registerRecurrent } from './module_recurrent.js';
import type { Module } from './module.js';
import { RNNBase, type RnnCallOptions, type RnnOutput } from './recurrent_base.js';
import { rnnConfig, rnnParameterShapes, type GatedOptions } from './rnn_config.js';
import type { RnnBackwardResult, RnnOutputGrads } from './rnn_functional.js';

/** Options of `LSTM.forward`: RNN's plus the initial cell state. */
export interface LstmCallOptions extends RnnCallOptions {
  /** Initial cell state [L*D, B, H] (default zeros). */
  c0?: Tensor;
}

/** Outputs of `LSTM.forward`. */
export interface LstmOutput extends RnnOutput {
  /** Final cell state of every layer and direction, [L*D,B,H], row layer*D + direction. */
  cN: Tensor;
}

/** Gradients flowing into `LSTM.backward`; omitted ones are zero. */
export interface LstmOutputGrads extends RnnOutputGrads {
  /** d loss / d cN, [L*D,B,H]. */
  gcN?: Tensor | null;
}

/** Result of `LSTM.backward`. */
export interface LstmBackwardResult extends RnnBackwardResult {
  /** d loss / d c0, [L*D,B,H]. */
  gc0: Tensor;
}

/**
 * A long short-term memory layer stack with torch.nn.LSTM's semantics, names and
 * initialisation: gates i, f, g, o stacked in that order in `weight_ih_l0` [4H, I],
 * `weight_hh_l0` [4H, H], `bias_ih_l0` and `bias_hh_l0` [4H];
 * `c = f ⊙ c' + i ⊙ g`, `h = o ⊙ tanh(c)`.
 *
 * @example
 * ```ts
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
 * const { y, hN, cN } = lstm.forward(x, { h0, c0 });
 * const { gx, gh0, gc0 } = lstm.backward({ gy, ghN, gcN });
 * ```
 */
export class LSTM extends RNNBase<LstmCallOptions, LstmOutput, LstmOutputGrads, LstmBackwardResult> implements Module<Tensor, LstmOutput, LstmOutputGrads | undefined, LstmBackwardResult> {
  /** Creates an LSTM with every parameter drawn from U(-1/√H, 1/√H), as PyTorch does (then `options.init`'s recipe, if any). */
  constructor(options: GatedOptions) {
    super(options, 'LSTM');
  }
}

registerRecurrent('LSTM', (c) => rnnParameterShapes(rnnConfig({ ...c, seed: 0 }, 'LSTM')), (c) => new LSTM({ ...(c as unknown as GatedOptions), seed: 0 }));
