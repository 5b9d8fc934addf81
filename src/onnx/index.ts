/**
 * ONNX interchange: export RNN, LSTM, GRU and Sequential models, load and run ONNX
 * graphs built around the RNN, LSTM and GRU operators.
 */
export {
  encodeOnnx,
  exportOnnx,
  DEFAULT_EXPORT_OPSET,
  MIN_EXPORT_OPSET,
  MAX_EXPORT_OPSET,
  type ExportOnnxOptions,
  type ExportableModel,
} from './export.js';
export {
  OnnxModel,
  decodeOnnx,
  loadOnnx,
  SUPPORTED_OPERATORS,
  MIN_IMPORT_OPSET,
  MAX_IMPORT_OPSET,
  type OnnxFeed,
  type OnnxValueInfo,
} from './import.js';
export {
  decodeTensorProto,
  DEFAULT_MAX_TENSOR_ELEMENTS,
  DEFAULT_MAX_GRAPH_ELEMENTS,
  MAX_TENSOR_RANK,
  type OnnxLoadOptions,
  type OnnxTensor,
  type OnnxDType,
} from './proto.js';
export { ONNX_ACTIVATIONS, ACTIVATION_PARAMS, type OnnxActivationName, type OnnxActivation } from './rnn_generic.js';
