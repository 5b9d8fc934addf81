/**
 * Stateful stepping for generation and streaming: feed one step (or a chunk)
 * at a time; the recurrent state (h, and c for an LSTM) is carried between
 * calls until reset.
 */
import { rangeError } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import type { RecurrentState } from './layer.js';
import { RNNBase } from './recurrent_base.js';
import { Sequential } from './sequential.js';

/** Carries recurrent state across calls of a unidirectional RNN, LSTM or GRU, or a Sequential containing them. */
export class RnnStream {
  private states: RecurrentState[] | null = null;

  /** Streams through `model` (bidirectional layers cannot stream: they need the future). */
  constructor(readonly model: RNNBase | Sequential) {
    const rnns = model instanceof Sequential ? model.recurrentLayers() : [model];
    for (const r of rnns) {
      if (r.config.bidirectional) throw rangeError('model', 'unidirectional recurrent layers (a reverse pass needs the whole sequence)', `a bidirectional ${r.config.mode}`);
    }
  }

  /** Runs a chunk [T,B,...] (T may be 1) from the carried state; returns the output. */
  step(x: Tensor | IntTensor): Tensor {
    if (this.model instanceof RNNBase) {
      const s = this.states?.[0];
      const options = s === undefined ? undefined : 'h' in s ? { h0: s.h, c0: s.c } : { h0: s };
      const r = this.model.forward(x as Tensor, options) as { y: Tensor; hN: Tensor; cN?: Tensor };
      this.states = [r.cN ? { h: r.hN, c: r.cN } : r.hN];
      return r.y;
    }
    const y = this.model.forward(x, this.states ? { h0: this.states } : undefined);
    this.states = this.model.lastStates();
    return y;
  }

  /** Forgets the carried state (the next step starts from zeros). */
  reset(): void {
    this.states = null;
  }

  /** The carried states, one per recurrent layer (`{ h, c }` for an LSTM; null before the first step). */
  get state(): readonly RecurrentState[] | null {
    return this.states;
  }
}
