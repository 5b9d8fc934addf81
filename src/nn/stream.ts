/**
 * Stateful stepping for generation and streaming: feed one step (or a chunk)
 * at a time; the hidden state is carried between calls until reset.
 */
import { rangeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { IntTensor } from './layer.js';
import { RNN } from './rnn.js';
import { Sequential } from './sequential.js';

/** Carries recurrent state across calls of a unidirectional RNN or a Sequential containing them. */
export class RnnStream {
  private states: Tensor[] | null = null;

  /** Streams through `model` (bidirectional layers cannot stream: they need the future). */
  constructor(readonly model: RNN | Sequential) {
    const rnns = model instanceof Sequential ? model.recurrentLayers() : [model];
    for (const r of rnns) {
      if (r.config.bidirectional) throw rangeError('model', 'unidirectional recurrent layers (a reverse pass needs the whole sequence)', 'a bidirectional RNN');
    }
  }

  /** Runs a chunk [T,B,...] (T may be 1) from the carried state; returns the output. */
  step(x: Tensor | IntTensor): Tensor {
    if (this.model instanceof RNN) {
      const { y, hN } = this.model.forward(x as Tensor, this.states ? { h0: this.states[0] } : undefined);
      this.states = [hN];
      return y;
    }
    const y = this.model.forward(x, this.states ? { h0: this.states } : undefined);
    this.states = this.model.lastStates();
    return y;
  }

  /** Forgets the carried state (the next step starts from zeros). */
  reset(): void {
    this.states = null;
  }

  /** The carried states, one per RNN layer (null before the first step). */
  get state(): readonly Tensor[] | null {
    return this.states;
  }
}
