/**
 * Optimizers (torch.optim semantics), learning-rate schedules and gradient clipping.
 */
export {
  Optimizer,
  type OptimizerState,
  type ParamStateDict,
  type HyperValue,
  type ParamSlot,
  type BufferSpec,
  type PreparedHyper,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export {
  LRScheduler,
  StepLR,
  CosineAnnealingLR,
  LinearWarmup,
  type SchedulerState,
  type SchedulerValue,
  type StepLROptions,
  type CosineAnnealingLROptions,
  type LinearWarmupOptions,
} from './lr_scheduler.js';
export { MultiStepLR, ExponentialLR, type MultiStepLROptions, type ExponentialLROptions } from './decay_lr.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './plateau_lr.js';
export { OneCycleLR, type OneCycleLROptions } from './one_cycle_lr.js';
export { SequentialLR, type SequentialLROptions } from './sequential_lr.js';
export { clipGradNorm, clipGradValue } from './clip.js';
