/**
 * Converting Elman RNN weights between PyTorch's `nn.RNN` state-dict names (what rnnblas uses)
 * and Keras / TensorFlow.js `SimpleRNN` layers.
 *
 * A Keras `SimpleRNN` cell computes `h_t = act(x_t · kernel + h_{t-1} · recurrent_kernel + bias)`
 * with `kernel [I, H]`, `recurrent_kernel [H, H]` and a single `bias [H]`. PyTorch computes
 * `h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`, so `kernel = W_ih^T`,
 * `recurrent_kernel = W_hh^T` and `bias = b_ih + b_hh`. A bidirectional PyTorch RNN corresponds to
 * `Bidirectional(SimpleRNN(...), merge_mode='concat')`: the forward layer holds the `_l{k}`
 * weights and the backward layer the `_l{k}_reverse` ones. A stacked PyTorch RNN corresponds to
 * a stack of such layers with `return_sequences=True` on all but (optionally) the last.
 *
 * The activation is not part of the weights: use `activation='tanh'` (the default of both) or
 * `'relu'` to match the model's nonlinearity.
 */
import { cappedList, describe, rangeError, typeError } from '../errors.js';
import { type Tensor, checkTensor } from '../tensor.js';
import { checkBool, checkInt } from '../validate.js';

/** The weights of one Keras `SimpleRNN` cell. */
export interface KerasCellWeights {
  /** `kernel`, shape `[inputSize, hiddenSize]` (PyTorch's `weight_ih` transposed). */
  kernel: Tensor;
  /** `recurrent_kernel`, shape `[hiddenSize, hiddenSize]` (PyTorch's `weight_hh` transposed). */
  recurrentKernel: Tensor;
  /** `bias`, shape `[hiddenSize]` (`bias_ih + bias_hh`); absent when the layer has `use_bias=False`. */
  bias?: Tensor;
}

/**
 * The weights of one Keras layer in a stack: a `SimpleRNN` (only `forward`) or a
 * `Bidirectional(SimpleRNN)` (`forward` and `backward`).
 */
export interface KerasRnnLayerWeights {
  /** The `SimpleRNN` itself, or the forward layer of a `Bidirectional` wrapper. */
  forward: KerasCellWeights;
  /** The backward layer of a `Bidirectional` wrapper (PyTorch's `_reverse` weights). */
  backward?: KerasCellWeights;
}

/**
 * The RNN configuration the weights belong to. Extra properties are ignored, so a model's
 * whole config object can be passed.
 */
export interface KerasConversionConfig {
  /** Number of stacked layers (PyTorch `num_layers`), at least 1. */
  numLayers: number;
  /** Whether each layer runs in both directions (a Keras `Bidirectional` wrapper). */
  bidirectional: boolean;
  /** Whether the layers have biases (Keras `use_bias`). */
  bias: boolean;
  /** If given, the input size the weights must have; otherwise it is read from the weights. */
  inputSize?: number;
  /** If given, the hidden size the weights must have; otherwise it is read from the weights. */
  hiddenSize?: number;
}

/** The most layers a conversion accepts: the same limit as `RNN`'s `numLayers`. */
export const MAX_KERAS_LAYERS = 1024;

/** Validated config plus the sizes fixed so far. */
interface Sizes {
  numLayers: number;
  directions: number;
  bias: boolean;
  inputSize: number | undefined;
  hiddenSize: number | undefined;
}

function checkConfig(cfg: unknown): Sizes {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw typeError('cfg', 'a config object { numLayers, bidirectional, bias }', cfg);
  }
  const c = cfg as Record<string, unknown>;
  const numLayers = checkInt('cfg.numLayers', c.numLayers, 1, MAX_KERAS_LAYERS);
  const bidirectional = checkBool('cfg.bidirectional', c.bidirectional);
  const bias = checkBool('cfg.bias', c.bias);
  const inputSize = c.inputSize === undefined ? undefined : checkInt('cfg.inputSize', c.inputSize, 1);
  const hiddenSize = c.hiddenSize === undefined ? undefined : checkInt('cfg.hiddenSize', c.hiddenSize, 1);
  return { numLayers, directions: bidirectional ? 2 : 1, bias, inputSize, hiddenSize };
}

/** The PyTorch parameter-name suffix of a layer and direction: `_l0`, `_l1_reverse`, ... */
function suffix(layer: number, direction: number): string {
  return `_l${layer}${direction === 1 ? '_reverse' : ''}`;
}

/** A new `[cols, rows]` tensor holding the transpose of a row-major `[rows, cols]` one. */
function transpose(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  const src = t.data;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  }
  return { data: out, shape: Object.freeze([cols, rows]) };
}

/** A copy of a tensor with its own buffer. */
function copy(t: Tensor): Tensor {
  return { data: Float32Array.from(t.data), shape: Object.freeze([...t.shape]) };
}

/** Input size of layer `k` given the first layer's input size. */
function layerInput(sizes: Sizes, layer: number): number {
  return layer === 0 ? (sizes.inputSize as number) : (sizes.hiddenSize as number) * sizes.directions;
}

/** Why layer k's input size is what it is, for error messages. */
function inputDerivation(sizes: Sizes, layer: number): string {
  return layer === 0
    ? 'inputSize'
    : `hiddenSize${sizes.directions === 2 ? ' * 2 (bidirectional)' : ''}, the output of layer ${layer - 1}`;
}

/**
 * Reads the sizes from the first layer's weights when the config does not give them.
 * `ih` is `[H, I]` (PyTorch layout) or `[I, H]` (Keras layout); `hh` is `[H, H]`.
 */
function inferSizes(sizes: Sizes, ihName: string, ih: unknown, hhName: string, hh: unknown, keras: boolean): void {
  if (sizes.hiddenSize === undefined) {
    const t = checkTensor(hhName, hh, [-1, -1]);
    sizes.hiddenSize = t.shape[0];
    if (sizes.hiddenSize < 1) throw rangeError(`${hhName}.shape`, 'a hidden size of at least 1', `[${t.shape.join(', ')}]`);
  }
  if (sizes.inputSize === undefined) {
    const t = checkTensor(ihName, ih, [-1, -1]);
    sizes.inputSize = keras ? t.shape[0] : t.shape[1];
    if (sizes.inputSize < 1) throw rangeError(`${ihName}.shape`, 'an input size of at least 1', `[${t.shape.join(', ')}]`);
  }
}

/**
 * Converts a PyTorch-named RNN state dict (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`,
 * `bias_hh_l{k}`, with `_reverse` for the backward direction) to Keras `SimpleRNN` weights,
 * one entry per layer. Kernels are transposed and the two biases folded into one
 * (`bias = bias_ih + bias_hh`, in float32). The result owns its buffers.
 *
 * @param stateDict - exactly the parameters of an RNN with this config (no other keys).
 * @param cfg - the RNN's layer count, directionality and bias flag (and optionally sizes to check).
 * @returns one {@link KerasRnnLayerWeights} per layer; `backward` is set when bidirectional.
 * @throws TypeError for a config or tensor of the wrong kind.
 * @throws RangeError for a missing or unexpected key, or a tensor of the wrong shape.
 */
export function toKerasWeights(stateDict: Record<string, Tensor>, cfg: KerasConversionConfig): KerasRnnLayerWeights[] {
  const sizes = checkConfig(cfg);
  if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
    throw typeError('stateDict', 'an object mapping parameter names to Tensors', stateDict);
  }
  const expectedKeys: string[] = [];
  for (let k = 0; k < sizes.numLayers; k++) {
    for (let d = 0; d < sizes.directions; d++) {
      const s = suffix(k, d);
      expectedKeys.push(`weight_ih${s}`, `weight_hh${s}`);
      if (sizes.bias) expectedKeys.push(`bias_ih${s}`, `bias_hh${s}`);
    }
  }
  const missing = expectedKeys.filter((key) => !Object.prototype.hasOwnProperty.call(stateDict, key));
  if (missing.length > 0) {
    throw rangeError('stateDict', `the ${expectedKeys.length} parameters ${cappedList(expectedKeys)}`, `a state dict without ${cappedList(missing)}`);
  }
  const expectedSet = new Set(expectedKeys);
  const unexpected = Object.keys(stateDict).filter((key) => !expectedSet.has(key));
  if (unexpected.length > 0) {
    const hint = describeConfig(sizes);
    throw rangeError('stateDict', `only the parameters of a ${hint} RNN`, `a state dict with the unexpected key(s) ${cappedList(unexpected.map((k) => describe(k).slice(1, -1)))}`);
  }

  inferSizes(sizes, 'stateDict.weight_ih_l0', stateDict.weight_ih_l0, 'stateDict.weight_hh_l0', stateDict.weight_hh_l0, false);
  const H = sizes.hiddenSize as number;
  const layers: KerasRnnLayerWeights[] = [];
  for (let k = 0; k < sizes.numLayers; k++) {
    const I = layerInput(sizes, k);
    const cells: KerasCellWeights[] = [];
    for (let d = 0; d < sizes.directions; d++) {
      const s = suffix(k, d);
      const wih = checkTensor(`stateDict.weight_ih${s}`, stateDict[`weight_ih${s}`], [H, I], `[hiddenSize, ${inputDerivation(sizes, k)}]`);
      const whh = checkTensor(`stateDict.weight_hh${s}`, stateDict[`weight_hh${s}`], [H, H], '[hiddenSize, hiddenSize]');
      const cell: KerasCellWeights = { kernel: transpose(wih), recurrentKernel: transpose(whh) };
      if (sizes.bias) {
        const bih = checkTensor(`stateDict.bias_ih${s}`, stateDict[`bias_ih${s}`], [H], '[hiddenSize]');
        const bhh = checkTensor(`stateDict.bias_hh${s}`, stateDict[`bias_hh${s}`], [H], '[hiddenSize]');
        const b = new Float32Array(H);
        for (let j = 0; j < H; j++) b[j] = bih.data[j] + bhh.data[j];
        cell.bias = { data: b, shape: Object.freeze([H]) };
      }
      cells.push(cell);
    }
    layers.push(sizes.directions === 2 ? { forward: cells[0], backward: cells[1] } : { forward: cells[0] });
  }
  return layers;
}

function describeConfig(sizes: Sizes): string {
  return `${sizes.numLayers}-layer ${sizes.directions === 2 ? 'bidirectional' : 'unidirectional'} ${sizes.bias ? 'biased' : 'bias-free'}`;
}

/**
 * Converts Keras `SimpleRNN` weights (one entry per layer, `backward` for a `Bidirectional`
 * wrapper) to a PyTorch-named state dict in PyTorch's key order. Kernels are transposed; the
 * single Keras bias goes to `bias_ih_l{k}` and `bias_hh_l{k}` is zero (the sum is what matters).
 * The result owns its buffers.
 *
 * @param layers - one entry per layer; each cell has a bias exactly when `cfg.bias` is true.
 * @param cfg - the RNN's layer count, directionality and bias flag (and optionally sizes to check).
 * @returns the state dict (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `..._reverse`).
 * @throws TypeError for a config, layer or tensor of the wrong kind.
 * @throws RangeError for a wrong layer count, a missing/extra direction or bias, or a tensor of the wrong shape.
 */
export function fromKerasWeights(layers: readonly KerasRnnLayerWeights[], cfg: KerasConversionConfig): Record<string, Tensor> {
  const sizes = checkConfig(cfg);
  if (!Array.isArray(layers)) throw typeError('layers', 'an array with one entry per layer', layers);
  if (layers.length !== sizes.numLayers) {
    throw rangeError('layers', `${sizes.numLayers} entries (cfg.numLayers)`, `${layers.length} entries`);
  }
  const cells: NamedCell[][] = [];
  for (let k = 0; k < sizes.numLayers; k++) {
    const layer: unknown = layers[k];
    if (layer === null || typeof layer !== 'object') throw typeError(`layers[${k}]`, 'an object { forward, backward? }', layer);
    const { forward, backward } = layer as { forward?: unknown; backward?: unknown };
    if (forward === undefined) {
      throw typeError(`layers[${k}].forward`, 'the forward cell weights { kernel, recurrentKernel, bias? }', forward);
    }
    if (sizes.directions === 2 && backward === undefined) {
      throw rangeError(`layers[${k}].backward`, 'the backward cell weights (cfg.bidirectional is true)', backward);
    }
    if (sizes.directions === 1 && backward !== undefined) {
      throw rangeError(`layers[${k}].backward`, 'no backward weights (cfg.bidirectional is false)', 'backward weights');
    }
    const dirs = sizes.directions === 2 ? [forward, backward] : [forward];
    cells.push(
      dirs.map((cell, d) => {
        const name = `layers[${k}].${d === 0 ? 'forward' : 'backward'}`;
        if (cell === null || typeof cell !== 'object') throw typeError(name, 'an object { kernel, recurrentKernel, bias? }', cell);
        const c = cell as { kernel?: unknown; recurrentKernel?: unknown; bias?: unknown };
        return {
          kernel: c.kernel,
          recurrentKernel: c.recurrentKernel,
          bias: c.bias,
          kernelName: `${name}.kernel`,
          recurrentKernelName: `${name}.recurrentKernel`,
          biasName: `${name}.bias`,
        };
      }),
    );
  }
  return cellsToStateDict(cells, sizes);
}

/** "a tensor of shape [..]" for tensor-like values, else the generic description. */
function describeWeights(value: unknown): unknown {
  const shape = (value as { shape?: unknown } | null)?.shape;
  return Array.isArray(shape) ? `a tensor of shape [${cappedList(shape)}]` : value;
}

/** One Keras cell's (unchecked) weights plus the names errors should use for them. */
interface NamedCell {
  kernel: unknown;
  recurrentKernel: unknown;
  bias: unknown;
  kernelName: string;
  recurrentKernelName: string;
  biasName: string;
}

/** Checks Keras cells (`cells[layer][direction]`) and converts them to a PyTorch state dict. */
function cellsToStateDict(cells: NamedCell[][], sizes: Sizes): Record<string, Tensor> {
  const first = cells[0][0];
  inferSizes(sizes, first.kernelName, first.kernel, first.recurrentKernelName, first.recurrentKernel, true);
  const H = sizes.hiddenSize as number;
  const out: Record<string, Tensor> = {};
  cells.forEach((layer, k) => {
    const I = layerInput(sizes, k);
    layer.forEach((cell, d) => {
      const s = suffix(k, d);
      const kernel = checkTensor(cell.kernelName, cell.kernel, [I, H], `[${inputDerivation(sizes, k)}, hiddenSize]`);
      const rec = checkTensor(cell.recurrentKernelName, cell.recurrentKernel, [H, H], '[hiddenSize, hiddenSize]');
      out[`weight_ih${s}`] = transpose(kernel);
      out[`weight_hh${s}`] = transpose(rec);
      if (sizes.bias) {
        if (cell.bias === undefined) throw rangeError(cell.biasName, `a bias of shape [${H}] (cfg.bias is true)`, cell.bias);
        out[`bias_ih${s}`] = copy(checkTensor(cell.biasName, cell.bias, [H], '[hiddenSize]'));
        out[`bias_hh${s}`] = { data: new Float32Array(H), shape: Object.freeze([H]) };
      } else if (cell.bias !== undefined) {
        throw rangeError(cell.biasName, 'no bias (cfg.bias is false; the Keras layer must have use_bias=False)', describeWeights(cell.bias));
      }
    });
  });
  return out;
}

/**
 * The flat weight list `model.getWeights()` returns (and `model.setWeights()` takes) for a
 * Keras / TensorFlow.js stack of `SimpleRNN` or `Bidirectional(SimpleRNN)` layers with these
 * weights: per layer `kernel, recurrent_kernel[, bias]`, and for a bidirectional layer the
 * forward layer's weights followed by the backward layer's. Layers after the RNN stack (e.g. a
 * `Dense` head) are not included.
 *
 * @param stateDict - the PyTorch-named RNN parameters, as for {@link toKerasWeights}.
 * @param cfg - the RNN's layer count, directionality and bias flag.
 * @returns the tensors in Keras order (new buffers).
 */
export function toKerasWeightList(stateDict: Record<string, Tensor>, cfg: KerasConversionConfig): Tensor[] {
  const list: Tensor[] = [];
  for (const layer of toKerasWeights(stateDict, cfg)) {
    for (const cell of layer.backward ? [layer.forward, layer.backward] : [layer.forward]) {
      list.push(cell.kernel, cell.recurrentKernel);
      if (cell.bias) list.push(cell.bias);
    }
  }
  return list;
}

/**
 * The inverse of {@link toKerasWeightList}: reads a flat Keras / TensorFlow.js weight list (as
 * from `model.getWeights()` on a stack of `SimpleRNN` / `Bidirectional(SimpleRNN)` layers, with
 * tensors converted to `{ data: Float32Array, shape }`) into a PyTorch-named state dict.
 *
 * @param list - `numLayers * directions * (bias ? 3 : 2)` tensors in Keras order.
 * @param cfg - the RNN's layer count, directionality and bias flag.
 * @returns the state dict, as from {@link fromKerasWeights}.
 * @throws RangeError if the list has the wrong length or a tensor the wrong shape.
 */
export function fromKerasWeightList(list: readonly Tensor[], cfg: KerasConversionConfig): Record<string, Tensor> {
  const sizes = checkConfig(cfg);
  if (!Array.isArray(list)) throw typeError('list', 'an array of Tensors', list);
  const perCell = sizes.bias ? 3 : 2;
  const expected = sizes.numLayers * sizes.directions * perCell;
  if (list.length !== expected) {
    const how = `${sizes.numLayers} layer(s) x ${sizes.directions} direction(s) x ${perCell} (kernel, recurrent_kernel${sizes.bias ? ', bias' : ''})`;
    throw rangeError('list', `${expected} tensors (${how})`, `${list.length} tensors`);
  }
  const cells: NamedCell[][] = [];
  let i = 0;
  for (let k = 0; k < sizes.numLayers; k++) {
    const layer: NamedCell[] = [];
    for (let d = 0; d < sizes.directions; d++) {
      const where = `layer ${k}${sizes.directions === 2 ? (d === 0 ? ' forward' : ' backward') : ''}`;
      layer.push({
        kernel: list[i],
        recurrentKernel: list[i + 1],
        bias: sizes.bias ? list[i + 2] : undefined,
        kernelName: `list[${i}] (${where} kernel)`,
        recurrentKernelName: `list[${i + 1}] (${where} recurrent_kernel)`,
        biasName: `list[${i + 2}] (${where} bias)`,
      });
      i += perCell;
    }
    cells.push(layer);
  }
  return cellsToStateDict(cells, sizes);
}
