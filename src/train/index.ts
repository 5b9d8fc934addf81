/**
 * Training: the fit loop, evaluation, prediction, truncated BPTT helpers and sampling.
 */
export {
  fit,
  evaluate,
  predict,
  NonFiniteError,
  type FitOptions,
  type FitProgress,
  type FitRecord,
  type FitResult,
  type EpochSummary,
  type ValidationRecord,
  type EvaluateOptions,
  type EvaluateResult,
  type PredictOptions,
} from './fit.js';
export { type LossName } from './loss.js';
export { tbpttChunks, type TimeChunk } from './tbptt.js';
export { sample, type SampleOptions } from './sample.js';
