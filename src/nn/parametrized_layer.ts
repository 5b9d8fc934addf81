/**
 * What the modules with weights (RNN, Linear, Embedding, and LSTM/GRU) share:
 * their parameters in one ParameterStore (two native-owned arenas), state
 * dicts, gradients and zeroGrad on top of {@link ModuleBase}.
 */
import type { Parameter } from '../tensor.js';
import type { LoadStateDictOptions, LoadStateDictResult, StateDict } from './module.js';
import { ModuleBase } from './module_base.js';
import { ParameterStore } from './parameters.js';

/** Base of modules whose state is their parameters, laid out in one {@link ParameterStore}. */
export abstract class ParametrizedLayer extends ModuleBase {
  /** The module's parameters and gradients. */
  protected readonly store: ParameterStore;

  /** Lays out the parameters (initialise them in the subclass). */
  protected constructor(shapes: ReadonlyArray<readonly [string, readonly number[]]>) {
    super();
    this.store = new ParameterStore(shapes);
  }

  /** The parameters in declaration order, with local names. */
  parameters(): Parameter[] {
    return [...this.store.list];
  }

  /** Weights by name (sharing memory). */
  override stateDict(): StateDict {
    return this.store.stateDict();
  }

  /** Gradients by name (sharing memory). */
  override gradStateDict(): StateDict {
    return this.store.gradStateDict();
  }

  /**
   * Copies weights in; all keys and shapes are checked first, so a failed load changes
   * nothing. Strict by default; `{ strict: false }` loads the keys present and reports the rest.
   */
  override loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    return this.store.load(stateDict, 'stateDict', options);
  }

  /** Zeroes the gradients. */
  override zeroGrad(): void {
    this.store.zeroGrad();
  }
}
