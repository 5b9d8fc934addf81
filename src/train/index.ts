/**
 * Training: the fit loop, checkpoints, evaluation, prediction, metrics, the progress bar,
 * truncated BPTT helpers and sampling.
 */
export { fit } from './fit.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointContents, type LoadCheckpointOptions, type LoadedCheckpoint } from './checkpoint_file.js';
export {
  type FitOptions,
  type FitProgress,
  type FitRecord,
  type FitResult,
  type EpochSummary,
  type ValidationRecord,
  type EarlyStoppingOptions,
  type FitCheckpointOptions,
  type MonitorName,
  type StopReason,
  type CallbackResult,
} from './options.js';
export { NonFiniteError } from './step.js';
export { evaluate, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export { predict, type PredictOptions } from './predict.js';
export { type MetricName, type MetricValues } from './metrics.js';
export { TrainingProgressBar, progressLayout, type ProgressBarOptions, type TrainingProgressBarOptions } from './progress_bar.js';
export { type LossName } from './loss.js';
export { tbpttChunks, type TimeChunk } from './tbptt.js';
export { sample, type SampleOptions } from './sample.js';
