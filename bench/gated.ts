/**
 * The LSTM / GRU layer the rnnblas benchmark children run for L1, G1, L5, G5: the
 * library's modules (`new LSTM(...)` / `new GRU(...)`, PyTorch's initialisation from the
 * seed), as a user runs them and as W1-W5 run `RNN`.
 */
import { GRU, LSTM } from '../src/index.js';
import type { GatedOptions } from '../src/nn/rnn_config.js';

/** An LSTM or GRU module with the given options. */
export function gatedRecurrent(cell: 'LSTM' | 'GRU', options: GatedOptions & { seed: number }): LSTM | GRU {
  return cell === 'LSTM' ? new LSTM(options) : new GRU(options);
}
