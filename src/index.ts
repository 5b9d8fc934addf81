/**
 * rnnblas: Elman recurrent neural networks for Node.js, with the math in C++
 * on OpenBLAS.
 */
export { tensor, zeros, numel, type Tensor, type IntTensor, type Parameter } from './tensor.js';
export { Rng, type RngState } from './random.js';
export { blasInfo, setNumThreads, getNumThreads, setFlushDenormals, getFlushDenormals, type BlasInfo } from './blas.js';
export { RNN, rnnParameterShapes, type RnnCallOptions, type RnnOutput, type RecurrentBackwardOptions } from './nn/rnn.js';
export { RNNBase } from './nn/recurrent_base.js';
export { LSTM, type LstmCallOptions, type LstmOutput, type LstmOutputGrads, type LstmBackwardResult } from './nn/lstm.js';
export { GRU } from './nn/gru.js';
export { rnnConfig, gateCount, type RnnConfig, type RnnOptions, type GatedOptions, type RnnMode } from './nn/rnn_config.js';
export type { RnnInitOptions } from './nn/rnn_config.js';
/** `torch.nn.init` for rnnblas tensors and parameters: `init.orthogonal_(p)`, `init.eye_(p)`, ... */
export * as init from './nn/init.js';
export {
  gradcheck,
  type GradcheckFunction,
  type GradcheckInputs,
  type GradcheckOptions,
  type GradcheckResult,
  type GradcheckTensorReport,
  type GradcheckElement,
} from './nn/gradcheck.js';
export {
  rnnForward,
  rnnForwardAsync,
  rnnBackward,
  rnnBackwardAsync,
  type RnnWeights,
  type RnnForwardOptions,
  type RnnForwardResult,
  type RnnOutputGrads,
  type RnnBackwardOptions,
  type RnnBackwardResult,
  type RnnTape,
  RnnWorkspace,
} from './nn/rnn_functional.js';
export type { Module, ModuleSpec, StateDict, LoadStateDictOptions, LoadStateDictResult, ShapeDim, SummaryOptions } from './nn/module.js';
export { ModuleBase } from './nn/module_base.js';
export { ParametrizedLayer } from './nn/parametrized_layer.js';
export { StatelessLayer } from './nn/stateless_layer.js';
export { registerModule, registeredModuleTypes, type ModuleKind, type ParameterShapes } from './io/registry.js';
export { Linear, type LinearOptions, type LinearBackwardOptions } from './nn/linear.js';
export { Embedding, type EmbeddingOptions } from './nn/embedding.js';
export { LastStep, type LastStepOptions, type LastStepForwardOptions } from './nn/last_step.js';
export { MergeDirections, splitDirections, type MergeMode, type MergeDirectionsOptions } from './nn/merge.js';
export { Sequential, type SequentialForwardOptions } from './nn/sequential.js';
export { RnnStream } from './nn/stream.js';
export type { Layer, LayerContext, RecurrentState, LstmState } from './nn/layer.js';
export * from './optim/index.js';
export { crossEntropy, mseLoss, type LossResult, type Reduction, type CrossEntropyOptions, type MseLossOptions } from './nn/losses.js';
export {
  encodeSafetensors, decodeSafetensors, decodeSafetensorsHeader, saveSafetensors, loadSafetensors, writeFileAtomic, FormatError, DEFAULT_MAX_TENSORS,
  type DecodeSafetensorsOptions, type SafetensorsHeader, type SafetensorsTensorInfo,
} from './io/safetensors.js';
export { toKerasWeights, fromKerasWeights, toKerasWeightList, fromKerasWeightList, loadKerasWeights } from './interop/keras.js';
export * from './onnx/index.js';
export * from './data/index.js';
export * from './train/index.js';
export {
  saveModel, loadModel, encodeModel, decodeModel, modelSpec, buildModel, MODEL_FILE_VERSION, DEFAULT_MAX_PARAMETERS,
  type LoadModelOptions, type ModelSpec, type LayerSpec, type LoadedModel, type ModuleClass, type JsonValue,
} from './io/model_file.js';
