/**
 * What the modules without parameters (LastStep, MergeDirections) share.
 */
import type { Parameter } from '../tensor.js';
import { ModuleBase } from './module_base.js';

/** Base of modules with no parameters (empty state dicts) and no mode-dependent behaviour. */
export abstract class StatelessLayer extends ModuleBase {
  /** No parameters. */
  parameters(): Parameter[] {
    return [];
  }
}
