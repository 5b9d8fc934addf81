/**
 * What the feed-forward layers with weights (Linear, Embedding) share: their
 * parameters in one ParameterStore, state dicts, zeroGrad and save.
 */
import type { Parameter, Tensor } from '../tensor.js';
import type { Linear } from './linear.js';
import type { Embedding } from './embedding.js';
import { ParameterStore } from './parameters.js';
import { saveModule } from './save.js';

/** Base of layers whose only state is their parameters. */
export abstract class ParametrizedLayer {
  /** The layer's parameters and gradients. */
  protected readonly store: ParameterStore;

  /** Lays out the parameters (initialise them in the subclass). */
  protected constructor(shapes: ReadonlyArray<readonly [string, readonly number[]]>) {
    this.store = new ParameterStore(shapes);
  }

  /** The parameters in declaration order, with local names. */
  parameters(): Parameter[] {
    return [...this.store.list];
  }

  /** Weights by name (sharing memory). */
  stateDict(): Record<string, Tensor> {
    return this.store.stateDict();
  }

  /** Copies weights in (all checked first, so a failed load changes nothing). */
  loadStateDict(sd: Record<string, Tensor>): void {
    this.store.load(sd);
  }

  /** Zeroes the gradients. */
  zeroGrad(): void {
    this.store.zeroGrad();
  }

  /** No mode-dependent behaviour; for the Layer interface. */
  train(_mode = true): this {
    return this;
  }

  /** Saves weights and shape as safetensors; read back with `loadModel(path)`. */
  async save(path: string): Promise<void> {
    await saveModule(this as unknown as Linear | Embedding, path);
  }
}
