/**
 * Data helpers: vocabularies, dataset builders, batching, splitting and seeded shuffling.
 */
export { charVocab, vocabFromChars, type CharVocab } from './vocab.js';
export {
  batchOf,
  batchIndices,
  checkDataset,
  chronologicalSplit,
  datasetSize,
  isIntTensor,
  shuffleDataset,
  shuffledIndices,
  subset,
  type Batch,
  type BatchIndicesOptions,
  type DatasetInfo,
  type SequenceDataset,
  type TargetKind,
} from './dataset.js';
export {
  charDataset,
  padIds,
  padSequences,
  slidingWindows,
  type CharDatasetOptions,
  type Padded,
  type Series,
  type SlidingWindowsOptions,
} from './builders.js';
export { addingProblem, ADDING_BASELINE_MSE, type AddingProblemOptions } from './adding.js';
