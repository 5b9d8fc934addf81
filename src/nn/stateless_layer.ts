/**
 * What the layers without parameters (LastStep, MergeDirections) share.
 */
import type { Parameter } from '../tensor.js';

/** Base of layers with no parameters and no mode-dependent behaviour. */
export abstract class StatelessLayer {
  /** No parameters. */
  parameters(): Parameter[] {
    return [];
  }

  /** No mode-dependent behaviour; for the Layer interface. */
  train(_mode = true): this {
    return this;
  }
}
