/**
 * Converting recurrent-layer weights between PyTorch's state-dict names (what rnnblas uses) and
 * Keras / TensorFlow.js `SimpleRNN`, `LSTM` and `GRU` layers (`cfg.cell`: `'rnn'`, the default,
 * `'lstm'` or `'gru'`).
 *
 * **SimpleRNN.** Keras computes `h_t = act(x_t · kernel + h_{t-1} · recurrent_kernel + bias)`
 * with `kernel [I, H]`, `recurrent_kernel [H, H]` and a single `bias [H]`. PyTorch computes
 * `h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`, so `kernel = W_ih^T`,
 * `recurrent_kernel = W_hh^T` and `bias = b_ih + b_hh`.
 *
 * **LSTM.** Keras' `kernel [I, 4H]`, `recurrent_kernel [H, 4H]` and `bias [4H]` hold the gates
 * in the order i, f, c, o, which is PyTorch's i, f, g, o: the kernels are the transposes of
 * `weight_ih [4H, I]` and `weight_hh [4H, H]`, and `bias = bias_ih + bias_hh`. For the LSTM
 * and the GRU use `recurrent_activation='sigmoid'` (Keras' default; TensorFlow.js defaults to
 * `'hardSigmoid'`) and `activation='tanh'`.
 *
 * **GRU.** Keras orders the gates z, r, h; PyTorch r, z, n: the first two blocks swap. Keras
 * has two GRU cells, and rnnblas both (`new GRU({ ..., resetAfter })`); `cfg.resetAfter` says
 * which one the weights are for, and must be given for a GRU, because the two Keras variants
 * disagree on the default and, without biases, their weights have the same shapes.
 *
 * - `reset_after=True` (Keras' default since TensorFlow 2; rnnblas' default, PyTorch's cell)
 *   computes `h~ = tanh(x·W_h + b_h + r ⊙ (h·U_h + b_hh_h))` and keeps two biases,
 *   `bias [2, 3H]` (row 0 the input bias, row 1 the recurrent bias): `bias[0] = bias_ih` and
 *   `bias[1] = bias_hh` (reordered), exactly.
 * - `reset_after=False` (the only GRU TensorFlow.js 4.x builds) applies the reset gate before
 *   the recurrent product, `h~ = tanh(x·W_h + (r ⊙ h)·U_h + b_h)`, with one `bias [3H]`: the
 *   cell of `new GRU({ ..., resetAfter: false })`,
 *   `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`. Both of its biases enter outside the
 *   products, so Keras' `bias = bias_ih + bias_hh` (reordered) and, back, `bias_ih = bias`,
 *   `bias_hh = 0`.
 *
 * The conversion to Keras also takes the module itself (`toKerasWeights(gru)`), and
 * {@link loadKerasWeights} loads Keras weights into one: the config then comes from the module
 * (a GRU's `resetAfter` included), and any `cfg` given must agree with it.
 *
 * A bidirectional PyTorch layer corresponds to `Bidirectional(layer, merge_mode='concat')`:
 * the forward layer holds the `_l{k}` weights and the backward layer the `_l{k}_reverse`
 * ones. A stacked PyTorch module corresponds to a stack of such layers with
 * `return_sequences=True` on all but (optionally) the last. The activations are not part of
 * the weights: use the ones the PyTorch module has (`tanh`/`relu` for SimpleRNN).
 */
import { cappedList, describe, rangeError, typeError } from '../errors.js';
import { type Tensor, checkTensor } from '../tensor.js';
import { checkBool, checkInt, checkOneOf } from '../validate.js';

/** The recurrent cell a conversion is for: Keras `SimpleRNN`, `LSTM` or `GRU`. */
export type KerasCellKind = 'rnn' | 'lstm' | 'gru';

/** The weights of one Keras `SimpleRNN`, `LSTM` or `GRU` cell. */
export interface KerasCellWeights {
  /** `kernel`, shape `[inputSize, G * hiddenSize]` (PyTorch's `weight_ih` transposed; G = 1, 4 or 3 gates). */
  kernel: Tensor;
  /** `recurrent_kernel`, shape `[hiddenSize, G * hiddenSize]` (PyTorch's `weight_hh` transposed). */
  recurrentKernel: Tensor;
  /**
   * `bias`: shape `[G * hiddenSize]` (`bias_ih + bias_hh`) for SimpleRNN, LSTM and a `reset_after=False`
   * GRU, `[2, 3 * hiddenSize]` (input bias, recurrent bias) for a `reset_after=True` GRU; absent when
   * the layer has `use_bias=False`.
   */
  bias?: Tensor;
}

/**
 * The weights of one Keras layer in a stack: a plain layer (only `forward`) or a
 * `Bidirectional` wrapper (`forward` and `backward`).
 */
export interface KerasRnnLayerWeights {
  /** The layer itself, or the forward layer of a `Bidirectional` wrapper. */
  forward: KerasCellWeights;
  /** The backward layer of a `Bidirectional` wrapper (PyTorch's `_reverse` weights). */
  backward?: KerasCellWeights;
}

/**
 * The recurrent configuration the weights belong to. Extra properties are ignored, so a model's
 * whole config object can be passed.
 */
export interface KerasConversionConfig {
  /** Number of stacked layers (PyTorch `num_layers`), at least 1. */
  numLayers: number;
  /** Whether each layer runs in both directions (a Keras `Bidirectional` wrapper). */
  bidirectional: boolean;
  /** Whether the layers have biases (Keras `use_bias`). */
  bias: boolean;
  /** Which cell: `'rnn'` (Keras `SimpleRNN`, PyTorch `nn.RNN`; the default), `'lstm'` or `'gru'`. */
  cell?: KerasCellKind;
  /**
   * GRU only, and required for it: the Keras layer's `reset_after`. `true` is PyTorch's cell
   * (rnnblas' default GRU), `false` the cell of `new GRU({ ..., resetAfter: false })` and of every
   * TensorFlow.js 4.x GRU (see the module notes).
   */
  resetAfter?: boolean;
  /** If given, the input size the weights must have; otherwise it is read from the weights. */
  inputSize?: number;
  /** If given, the hidden size the weights must have; otherwise it is read from the weights. */
  hiddenSize?: number;
}

/** The most layers a conversion accepts: the same limit as `RNN`'s `numLayers`. */
export const MAX_KERAS_LAYERS = 1024;

/** Gate blocks per cell. */
const GATES: Record<KerasCellKind, number> = { rnn: 1, lstm: 4, gru: 3 };
/** For Keras gate block `kb`, the PyTorch block it holds (GRU: Keras z, r, h = PyTorch blocks 1, 0, 2). */
const TORCH_BLOCK: Record<KerasCellKind, readonly number[]> = { rnn: [0], lstm: [0, 1, 2, 3], gru: [1, 0, 2] };
/** Names for messages. */
const KERAS_NAME: Record<KerasCellKind, string> = { rnn: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU' };
const TORCH_NAME: Record<KerasCellKind, string> = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/** Validated config plus the sizes fixed so far. */
interface Sizes {
  cell: KerasCellKind;
  /** Gate blocks G. */
  gates: number;
  numLayers: number;
  directions: number;
  bias: boolean;
  /** GRU: Keras' reset_after (false for the other cells, where it means nothing). */
  resetAfter: boolean;
  inputSize: number | undefined;
  hiddenSize: number | undefined;
}

function checkConfig(cfg: unknown): Sizes {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw typeError('cfg', 'a config object { numLayers, bidirectional, bias, cell? }', cfg);
  }
  const c = cfg as Record<string, unknown>;
  const numLayers = checkInt('cfg.numLayers', c.numLayers, 1, MAX_KERAS_LAYERS);
  const bidirectional = checkBool('cfg.bidirectional', c.bidirectional);
  const bias = checkBool('cfg.bias', c.bias);
  const cell = c.cell === undefined ? 'rnn' : checkOneOf<KerasCellKind>('cfg.cell', c.cell, ['rnn', 'lstm', 'gru']);
  if (cell === 'gru') {
    if (typeof c.resetAfter !== 'boolean') {
      throw typeError(
        'cfg.resetAfter',
        "true or false, the Keras GRU's reset_after (required for cfg.cell 'gru': Keras defaults to true, TensorFlow.js only builds false)",
        c.resetAfter,
      );
    }
  } else if (c.resetAfter !== undefined) {
    throw rangeError('cfg.resetAfter', `no value (it is a GRU option and cfg.cell is '${cell}')`, c.resetAfter);
  }
  const inputSize = c.inputSize === undefined ? undefined : checkInt('cfg.inputSize', c.inputSize, 1);
  const hiddenSize = c.hiddenSize === undefined ? undefined : checkInt('cfg.hiddenSize', c.hiddenSize, 1);
  const resetAfter = cell === 'gru' && c.resetAfter === true;
  return { cell, gates: GATES[cell], numLayers, directions: bidirectional ? 2 : 1, bias, resetAfter, inputSize, hiddenSize };
}

/** The PyTorch parameter-name suffix of a layer and direction: `_l0`, `_l1_reverse`, ... */
function suffix(layer: number, direction: number): string {
  return `_l${layer}${direction === 1 ? '_reverse' : ''}`;
}

/**
 * PyTorch `[G*H, C]` (gate blocks in PyTorch's order) to Keras `[C, G*H]` (blocks in Keras'
 * order), or back when `toTorch`. A new tensor.
 */
function convertMatrix(t: Tensor, sizes: Sizes, toTorch: boolean): Tensor {
  const H = sizes.hiddenSize as number;
  const GH = sizes.gates * H;
  const C = toTorch ? t.shape[0] : t.shape[1];
  const src = t.data;
  const out = new Float32Array(GH * C);
  const blocks = TORCH_BLOCK[sizes.cell];
  for (let kb = 0; kb < blocks.length; kb++) {
    const tb = blocks[kb];
    for (let j = 0; j < H; j++) {
      const torchRow = (tb * H + j) * C;
      const kerasCol = kb * H + j;
      if (toTorch) {
        for (let c = 0; c < C; c++) out[torchRow + c] = src[c * GH + kerasCol];
      } else {
        for (let c = 0; c < C; c++) out[c * GH + kerasCol] = src[torchRow + c];
      }
    }
  }
  return { data: out, shape: Object.freeze(toTorch ? [GH, C] : [C, GH]) };
}

/** A `[G*H]` bias vector from PyTorch's gate order to Keras' (or back), into `out` at `offset`. */
function reorderBias(src: Float32Array, srcOffset: number, sizes: Sizes, toTorch: boolean, out: Float32Array, offset: number): void {
  const H = sizes.hiddenSize as number;
  const blocks = TORCH_BLOCK[sizes.cell];
  for (let kb = 0; kb < blocks.length; kb++) {
    const tb = blocks[kb];
    for (let j = 0; j < H; j++) {
      if (toTorch) out[offset + tb * H + j] = src[srcOffset + kb * H + j];
      else out[offset + kb * H + j] = src[srcOffset + tb * H + j];
    }
  }
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

/** `hiddenSize` or `4 * hiddenSize`, for error messages. */
function gatesDerivation(sizes: Sizes): string {
  return sizes.gates === 1 ? 'hiddenSize' : `${sizes.gates} * hiddenSize (${KERAS_NAME[sizes.cell]} gates)`;
}

/**
 * Reads the sizes from the first layer's weights when the config does not give them, and
 * says so clearly when the recurrent weights belong to another cell than `cfg.cell`.
 * PyTorch layout: `ih [G*H, I]`, `hh [G*H, H]`; Keras layout: `ih [I, G*H]`, `hh [H, G*H]`.
 */
function inferSizes(sizes: Sizes, ihName: string, ih: unknown, hhName: string, hh: unknown, keras: boolean): void {
  const hhT = checkTensor(hhName, hh, [-1, -1]);
  const [rows, cols] = hhT.shape;
  const h = keras ? rows : cols;
  const gh = keras ? cols : rows;
  if (sizes.hiddenSize === undefined) {
    sizes.hiddenSize = h;
    if (sizes.hiddenSize < 1) throw rangeError(`${hhName}.shape`, 'a hidden size of at least 1', `[${hhT.shape.join(', ')}]`);
  }
  const H = sizes.hiddenSize;
  if (h === H && gh !== sizes.gates * H) {
    const other = (Object.keys(GATES) as KerasCellKind[]).find((k) => k !== sizes.cell && GATES[k] * H === gh);
    if (other !== undefined) {
      const want = keras ? `[${H}, ${sizes.gates * H}]` : `[${sizes.gates * H}, ${H}]`;
      throw rangeError(
        `${hhName}.shape`,
        `shape ${want} for cfg.cell '${sizes.cell}' (${KERAS_NAME[sizes.cell]})`,
        `[${hhT.shape.join(', ')}], the shape of ${other === 'rnn' ? 'a SimpleRNN' : `an ${other === 'lstm' ? 'LSTM' : 'GRU'}`}'s weights (pass cfg.cell: '${other}')`,
      );
    }
  }
  if (sizes.inputSize === undefined) {
    const t = checkTensor(ihName, ih, [-1, -1]);
    sizes.inputSize = keras ? t.shape[0] : t.shape[1];
    if (sizes.inputSize < 1) throw rangeError(`${ihName}.shape`, 'an input size of at least 1', `[${t.shape.join(', ')}]`);
  }
}

/**
 * An rnnblas recurrent module a conversion reads from or loads into: `RNN`, `LSTM` or `GRU`
 * (structurally: anything with their `config`, `stateDict()` and `loadStateDict()`).
 */
export interface KerasRecurrentModule {
  /** The module's configuration: `mode` names the cell, a GRU's `resetAfter` (absent: true, PyTorch's cell) its variant. */
  readonly config: {
    readonly mode: string;
    readonly inputSize: number;
    readonly hiddenSize: number;
    readonly numLayers: number;
    readonly bidirectional: boolean;
    readonly bias: boolean;
    readonly resetAfter?: boolean;
  };
  /** The module's parameters by PyTorch name. */
  stateDict(): Record<string, Tensor>;
  /** Copies parameters in (strict). */
  loadStateDict(stateDict: Record<string, Tensor>): unknown;
}

/** The Keras cell of each rnnblas module mode. */
const MODE_CELL: Record<string, KerasCellKind> = { RNN: 'rnn', LSTM: 'lstm', GRU: 'gru' };

/** Whether a value is a recurrent module (rather than a state dict or a weight list). */
function isRecurrentModule(value: unknown): value is KerasRecurrentModule {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as { stateDict?: unknown; config?: unknown };
  return typeof v.stateDict === 'function' && v.config !== null && typeof v.config === 'object';
}

/** "a GRU with PyTorch's cell (resetAfter true)" and the like, for messages. */
function describeModule(cell: KerasCellKind, resetAfter: boolean): string {
  if (cell !== 'gru') return `${cell === 'rnn' ? 'an RNN' : 'an LSTM'} module`;
  return resetAfter
    ? "a GRU module with PyTorch's cell (resetAfter true, Keras' reset_after=True)"
    : "a GRU module with resetAfter false (the reset gate before the recurrent product, Keras' reset_after=False)";
}

/**
 * The conversion config of a module: its own, with every field `cfg` gives checked against it
 * (a field that disagrees is a RangeError naming it).
 */
function moduleConversionConfig(module: KerasRecurrentModule, cfg: unknown): KerasConversionConfig {
  const m = module.config as unknown as Record<string, unknown>;
  const cell = typeof m.mode === 'string' && Object.prototype.hasOwnProperty.call(MODE_CELL, m.mode) ? MODE_CELL[m.mode] : undefined;
  if (cell === undefined) throw typeError('module.config.mode', "'RNN', 'LSTM' or 'GRU' (an rnnblas recurrent module)", m.mode);
  const resetAfter = m.resetAfter !== false;
  const own: KerasConversionConfig = {
    cell,
    numLayers: m.numLayers as number,
    bidirectional: m.bidirectional as boolean,
    bias: m.bias as boolean,
    inputSize: m.inputSize as number,
    hiddenSize: m.hiddenSize as number,
    ...(cell === 'gru' ? { resetAfter } : {}),
  };
  if (cfg === undefined) return own;
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw typeError('cfg', 'a config object, or no value (the module gives it)', cfg);
  }
  const c = cfg as Record<string, unknown>;
  const what = describeModule(cell, resetAfter);
  if (c.cell !== undefined) {
    const given = checkOneOf<KerasCellKind>('cfg.cell', c.cell, ['rnn', 'lstm', 'gru']);
    if (given !== cell) throw rangeError('cfg.cell', `'${cell}' or no value (the module is ${what})`, `'${given}'`);
  }
  if (c.resetAfter !== undefined) {
    if (cell !== 'gru') throw rangeError('cfg.resetAfter', `no value (it is a GRU option and the module is ${what})`, c.resetAfter);
    const given = checkBool('cfg.resetAfter', c.resetAfter);
    if (given !== resetAfter) {
      const fix = resetAfter
        ? 'a reset_after=False Keras GRU, what TensorFlow.js builds, converts with new GRU({ ..., resetAfter: false })'
        : "a reset_after=True Keras GRU converts with new GRU({ ... }), PyTorch's cell";
      throw rangeError('cfg.resetAfter', `${resetAfter} or no value (the module is ${what}; ${fix})`, given);
    }
  }
  const fields: [keyof KerasConversionConfig, 'int' | 'bool'][] = [
    ['numLayers', 'int'],
    ['bidirectional', 'bool'],
    ['bias', 'bool'],
    ['inputSize', 'int'],
    ['hiddenSize', 'int'],
  ];
  for (const [key, kind] of fields) {
    if (c[key] === undefined) continue;
    const given = kind === 'int' ? checkInt(`cfg.${key}`, c[key], 1) : checkBool(`cfg.${key}`, c[key]);
    if (given !== own[key]) throw rangeError(`cfg.${key}`, `${String(own[key])} or no value (the module's ${key})`, given);
  }
  return own;
}

/**
 * Converts a PyTorch-named state dict of an `nn.RNN`, `nn.LSTM` or `nn.GRU` (`cfg.cell`;
 * `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, with `_reverse` for the
 * backward direction), or an rnnblas `RNN` / `LSTM` / `GRU` module's weights, to Keras
 * `SimpleRNN` / `LSTM` / `GRU` weights, one entry per layer. Kernels are transposed with the
 * gate blocks put in Keras' order; SimpleRNN, LSTM and `reset_after=False` GRU biases are
 * folded into one (`bias = bias_ih + bias_hh`, in float32), a `reset_after=True` GRU's become
 * the two rows of its bias. The result owns its buffers.
 *
 * @param stateDict - exactly the parameters of a module with this config (no other keys).
 * @param cfg - the cell, layer count, directionality and bias flag (GRU: `resetAfter`), optionally sizes to check.
 * @returns one {@link KerasRnnLayerWeights} per layer; `backward` is set when bidirectional.
 * @throws TypeError for a config or tensor of the wrong kind.
 * @throws RangeError for a missing or unexpected key or a tensor of the wrong shape.
 */
export function toKerasWeights(stateDict: Record<string, Tensor>, cfg: KerasConversionConfig): KerasRnnLayerWeights[];
/**
 * Converts an rnnblas `RNN`, `LSTM` or `GRU` module's weights to Keras weights, as for a state
 * dict, with the module's own config: a `GRU` with `resetAfter: false` gives a
 * `reset_after=False` GRU's weights (what TensorFlow.js builds), any other GRU a
 * `reset_after=True` one's.
 *
 * @param module - the module; its config (cell, sizes, layers, directions, bias, a GRU's `resetAfter`) is the conversion's.
 * @param cfg - optional: every field given must agree with the module's config.
 * @returns one {@link KerasRnnLayerWeights} per layer; `backward` is set when bidirectional.
 * @throws RangeError naming the field (e.g. `cfg.resetAfter`) when `cfg` disagrees with the module.
 */
export function toKerasWeights(module: KerasRecurrentModule, cfg?: Partial<KerasConversionConfig>): KerasRnnLayerWeights[];
export function toKerasWeights(source: Record<string, Tensor> | KerasRecurrentModule, cfg?: Partial<KerasConversionConfig>): KerasRnnLayerWeights[] {
  if (isRecurrentModule(source)) return stateDictToKeras(source.stateDict(), moduleConversionConfig(source, cfg));
  return stateDictToKeras(source, cfg);
}

/** {@link toKerasWeights} for a state dict (cfg unchecked). */
function stateDictToKeras(stateDict: Record<string, Tensor>, cfg: unknown): KerasRnnLayerWeights[] {
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
    throw rangeError('stateDict', `only the parameters of a ${hint}`, `a state dict with the unexpected key(s) ${cappedList(unexpected.map((k) => describe(k).slice(1, -1)))}`);
  }

  inferSizes(sizes, 'stateDict.weight_ih_l0', stateDict.weight_ih_l0, 'stateDict.weight_hh_l0', stateDict.weight_hh_l0, false);
  const H = sizes.hiddenSize as number;
  const GH = sizes.gates * H;
  const gd = gatesDerivation(sizes);
  const layers: KerasRnnLayerWeights[] = [];
  for (let k = 0; k < sizes.numLayers; k++) {
    const I = layerInput(sizes, k);
    const cells: KerasCellWeights[] = [];
    for (let d = 0; d < sizes.directions; d++) {
      const s = suffix(k, d);
      const wih = checkTensor(`stateDict.weight_ih${s}`, stateDict[`weight_ih${s}`], [GH, I], `[${gd}, ${inputDerivation(sizes, k)}]`);
      const whh = checkTensor(`stateDict.weight_hh${s}`, stateDict[`weight_hh${s}`], [GH, H], `[${gd}, hiddenSize]`);
      const cell: KerasCellWeights = { kernel: convertMatrix(wih, sizes, false), recurrentKernel: convertMatrix(whh, sizes, false) };
      if (sizes.bias) {
        const bih = checkTensor(`stateDict.bias_ih${s}`, stateDict[`bias_ih${s}`], [GH], `[${gd}]`);
        const bhh = checkTensor(`stateDict.bias_hh${s}`, stateDict[`bias_hh${s}`], [GH], `[${gd}]`);
        if (sizes.cell === 'gru' && sizes.resetAfter) {
          const b = new Float32Array(2 * GH);
          reorderBias(bih.data, 0, sizes, false, b, 0);
          reorderBias(bhh.data, 0, sizes, false, b, GH);
          cell.bias = { data: b, shape: Object.freeze([2, GH]) };
        } else {
          // SimpleRNN, LSTM and the reset_after=False GRU: both biases enter outside the products
          const sum = new Float32Array(GH);
          for (let j = 0; j < GH; j++) sum[j] = bih.data[j] + bhh.data[j];
          const b = new Float32Array(GH);
          reorderBias(sum, 0, sizes, false, b, 0);
          cell.bias = { data: b, shape: Object.freeze([GH]) };
        }
      }
      cells.push(cell);
    }
    layers.push(sizes.directions === 2 ? { forward: cells[0], backward: cells[1] } : { forward: cells[0] });
  }
  return layers;
}

function describeConfig(sizes: Sizes): string {
  return `${sizes.numLayers}-layer ${sizes.directions === 2 ? 'bidirectional' : 'unidirectional'} ${sizes.bias ? 'biased' : 'bias-free'} ${TORCH_NAME[sizes.cell]}`;
}

/**
 * Converts Keras `SimpleRNN` / `LSTM` / `GRU` weights (`cfg.cell`; one entry per layer,
 * `backward` for a `Bidirectional` wrapper) to a PyTorch-named state dict in PyTorch's key
 * order. Kernels are transposed with the gate blocks put in PyTorch's order; a SimpleRNN,
 * LSTM or `reset_after=False` GRU's single bias goes to `bias_ih_l{k}` and `bias_hh_l{k}` is
 * zero (the sum is what matters); a `reset_after=True` GRU's two bias rows become
 * `bias_ih_l{k}` and `bias_hh_l{k}`. Load a `reset_after=False` GRU's state dict into
 * `new GRU({ ..., resetAfter: false })` (or use {@link loadKerasWeights}, which checks). The
 * result owns its buffers.
 *
 * @param layers - one entry per layer; each cell has a bias exactly when `cfg.bias` is true.
 * @param cfg - the cell, layer count, directionality and bias flag (GRU: `resetAfter`), optionally sizes to check.
 * @returns the state dict (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `..._reverse`).
 * @throws TypeError for a config, layer or tensor of the wrong kind.
 * @throws RangeError for a wrong layer count, a missing/extra direction or bias, or a tensor of the wrong shape
 *   (a GRU bias of the other `reset_after` variant's shape says so).
 */
export function fromKerasWeights(layers: readonly KerasRnnLayerWeights[], cfg: KerasConversionConfig): Record<string, Tensor> {
  return layersToStateDict(layers, checkConfig(cfg), 'layers');
}

/** {@link fromKerasWeights} with a checked config; `argName` names the layers in messages. */
function layersToStateDict(layers: readonly KerasRnnLayerWeights[], sizes: Sizes, argName: string): Record<string, Tensor> {
  if (!Array.isArray(layers)) throw typeError(argName, 'an array with one entry per layer', layers);
  if (layers.length !== sizes.numLayers) {
    throw rangeError(argName, `${sizes.numLayers} entries (cfg.numLayers)`, `${layers.length} entries`);
  }
  const cells: NamedCell[][] = [];
  for (let k = 0; k < sizes.numLayers; k++) {
    const layer: unknown = layers[k];
    if (layer === null || typeof layer !== 'object') throw typeError(`${argName}[${k}]`, 'an object { forward, backward? }', layer);
    const { forward, backward } = layer as { forward?: unknown; backward?: unknown };
    if (forward === undefined) {
      throw typeError(`${argName}[${k}].forward`, 'the forward cell weights { kernel, recurrentKernel, bias? }', forward);
    }
    if (sizes.directions === 2 && backward === undefined) {
      throw rangeError(`${argName}[${k}].backward`, 'the backward cell weights (cfg.bidirectional is true)', backward);
    }
    if (sizes.directions === 1 && backward !== undefined) {
      throw rangeError(`${argName}[${k}].backward`, 'no backward weights (cfg.bidirectional is false)', 'backward weights');
    }
    const dirs = sizes.directions === 2 ? [forward, backward] : [forward];
    cells.push(
      dirs.map((cell, d) => {
        const name = `${argName}[${k}].${d === 0 ? 'forward' : 'backward'}`;
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

/** Checks a GRU's Keras bias, saying so when it has the other reset_after variant's shape. */
function checkGruBias(name: string, value: unknown, GH: number, resetAfter: boolean): Tensor {
  const shape = (value as { shape?: unknown } | null)?.shape;
  const dims = Array.isArray(shape) ? shape : [];
  if (resetAfter && dims.length === 1 && dims[0] === GH) {
    throw rangeError(
      `${name}.shape`,
      `shape [2, ${GH}] (a reset_after=True GRU's input and recurrent biases; cfg.resetAfter is true)`,
      `[${GH}], the bias of a reset_after=False GRU (every TensorFlow.js 4.x GRU: pass cfg.resetAfter: false)`,
    );
  }
  if (!resetAfter && dims.length === 2 && dims[0] === 2 && dims[1] === GH) {
    throw rangeError(
      `${name}.shape`,
      `shape [${GH}] (a reset_after=False GRU's bias; cfg.resetAfter is false)`,
      `[2, ${GH}], the input and recurrent biases of a reset_after=True GRU (pass cfg.resetAfter: true)`,
    );
  }
  return resetAfter
    ? checkTensor(name, value, [2, GH], '[2 (input, recurrent), 3 * hiddenSize (GRU gates)]')
    : checkTensor(name, value, [GH], '[3 * hiddenSize (GRU gates)]');
}

/** Checks Keras cells (`cells[layer][direction]`) and converts them to a PyTorch state dict. */
function cellsToStateDict(cells: NamedCell[][], sizes: Sizes): Record<string, Tensor> {
  const first = cells[0][0];
  inferSizes(sizes, first.kernelName, first.kernel, first.recurrentKernelName, first.recurrentKernel, true);
  const H = sizes.hiddenSize as number;
  const GH = sizes.gates * H;
  const gd = gatesDerivation(sizes);
  const out: Record<string, Tensor> = {};
  cells.forEach((layer, k) => {
    const I = layerInput(sizes, k);
    layer.forEach((cell, d) => {
      const s = suffix(k, d);
      const kernel = checkTensor(cell.kernelName, cell.kernel, [I, GH], `[${inputDerivation(sizes, k)}, ${gd}]`);
      const rec = checkTensor(cell.recurrentKernelName, cell.recurrentKernel, [H, GH], `[hiddenSize, ${gd}]`);
      out[`weight_ih${s}`] = convertMatrix(kernel, sizes, true);
      out[`weight_hh${s}`] = convertMatrix(rec, sizes, true);
      if (sizes.bias) {
        if (cell.bias === undefined) {
          const want = sizes.cell === 'gru' && sizes.resetAfter ? `[2, ${GH}]` : `[${GH}]`;
          throw rangeError(cell.biasName, `a bias of shape ${want} (cfg.bias is true)`, cell.bias);
        }
        const bih = new Float32Array(GH);
        const bhh = new Float32Array(GH);
        if (sizes.cell === 'gru') {
          const b = checkGruBias(cell.biasName, cell.bias, GH, sizes.resetAfter);
          reorderBias(b.data, 0, sizes, true, bih, 0);
          if (sizes.resetAfter) reorderBias(b.data, GH, sizes, true, bhh, 0); // else bias_hh = 0 (the sum is what matters)
        } else {
          const b = checkTensor(cell.biasName, cell.bias, [GH], `[${gd}]`);
          reorderBias(b.data, 0, sizes, true, bih, 0);
        }
        out[`bias_ih${s}`] = { data: bih, shape: Object.freeze([GH]) };
        out[`bias_hh${s}`] = { data: bhh, shape: Object.freeze([GH]) };
      } else if (cell.bias !== undefined) {
        throw rangeError(cell.biasName, 'no bias (cfg.bias is false; the Keras layer must have use_bias=False)', describeWeights(cell.bias));
      }
    });
  });
  return out;
}

/**
 * The flat weight list `model.getWeights()` returns (and `model.setWeights()` takes) for a
 * Keras / TensorFlow.js stack of `SimpleRNN`, `LSTM` or `GRU` layers (`cfg.cell`), each
 * possibly in a `Bidirectional` wrapper, with these weights: per layer
 * `kernel, recurrent_kernel[, bias]`, and for a bidirectional layer the forward layer's weights
 * followed by the backward layer's. Layers after the recurrent stack (e.g. a `Dense` head) are
 * not included. A module may stand in for the state dict, as for {@link toKerasWeights}: its
 * config is then the conversion's (a `GRU` with `resetAfter: false` gives a `reset_after=False`
 * GRU's list, the one a TensorFlow.js GRU's `setWeights` takes).
 *
 * @param source - the PyTorch-named parameters, as for {@link toKerasWeights}, or an `RNN` / `LSTM` / `GRU` module.
 * @param cfg - the cell, layer count, directionality and bias flag (GRU: `resetAfter`); for a module optional, and checked against it.
 * @returns the tensors in Keras order (new buffers).
 * @throws RangeError as {@link toKerasWeights}, e.g. naming `cfg.resetAfter` when it disagrees with a GRU module.
 */
export function toKerasWeightList(stateDict: Record<string, Tensor>, cfg: KerasConversionConfig): Tensor[];
/**
 * {@link toKerasWeightList} for a module: its config is the conversion's; `cfg`, if given, must agree with it.
 *
 * @param module - an `RNN`, `LSTM` or `GRU` module.
 * @param cfg - optional: every field given must agree with the module's config.
 * @returns the tensors in Keras order (new buffers).
 * @throws RangeError naming the field (e.g. `cfg.resetAfter`) when `cfg` disagrees with the module.
 */
export function toKerasWeightList(module: KerasRecurrentModule, cfg?: Partial<KerasConversionConfig>): Tensor[];
export function toKerasWeightList(source: Record<string, Tensor> | KerasRecurrentModule, cfg?: Partial<KerasConversionConfig>): Tensor[] {
  const list: Tensor[] = [];
  const layers = isRecurrentModule(source) ? stateDictToKeras(source.stateDict(), moduleConversionConfig(source, cfg)) : stateDictToKeras(source, cfg);
  for (const layer of layers) {
    for (const cell of layer.backward ? [layer.forward, layer.backward] : [layer.forward]) {
      list.push(cell.kernel, cell.recurrentKernel);
      if (cell.bias) list.push(cell.bias);
    }
  }
  return list;
}

/**
 * The inverse of {@link toKerasWeightList}: reads a flat Keras / TensorFlow.js weight list (as
 * from `model.getWeights()` on a stack of `SimpleRNN` / `LSTM` / `GRU` layers, possibly
 * `Bidirectional`, with tensors converted to `{ data: Float32Array, shape }`) into a
 * PyTorch-named state dict.
 *
 * @param list - `numLayers * directions * (bias ? 3 : 2)` tensors in Keras order.
 * @param cfg - the cell, layer count, directionality and bias flag.
 * @returns the state dict, as from {@link fromKerasWeights}.
 * @throws RangeError if the list has the wrong length or a tensor the wrong shape.
 */
export function fromKerasWeightList(list: readonly Tensor[], cfg: KerasConversionConfig): Record<string, Tensor> {
  return listToStateDict(list, checkConfig(cfg), 'list');
}

/** {@link fromKerasWeightList} with a checked config; `argName` names the list in messages. */
function listToStateDict(list: readonly Tensor[], sizes: Sizes, argName: string): Record<string, Tensor> {
  if (!Array.isArray(list)) throw typeError(argName, 'an array of Tensors', list);
  const perCell = sizes.bias ? 3 : 2;
  const expected = sizes.numLayers * sizes.directions * perCell;
  if (list.length !== expected) {
    const how = `${sizes.numLayers} layer(s) x ${sizes.directions} direction(s) x ${perCell} (kernel, recurrent_kernel${sizes.bias ? ', bias' : ''})`;
    throw rangeError(argName, `${expected} tensors (${how})`, `${list.length} tensors`);
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
        kernelName: `${argName}[${i}] (${where} kernel)`,
        recurrentKernelName: `${argName}[${i + 1}] (${where} recurrent_kernel)`,
        biasName: `${argName}[${i + 2}] (${where} bias)`,
      });
      i += perCell;
    }
    cells.push(layer);
  }
  return cellsToStateDict(cells, sizes);
}

/**
 * Loads Keras / TensorFlow.js weights into an rnnblas `RNN`, `LSTM` or `GRU` module, the
 * conversion config being the module's own: a `GRU` with `resetAfter: false` takes a
 * `reset_after=False` Keras GRU's weights (every TensorFlow.js 4.x GRU), any other GRU a
 * `reset_after=True` one's. The load is strict and changes nothing when it fails.
 *
 * Without biases the two Keras GRU variants have weights of the same shapes: only the module's
 * `resetAfter` (or `cfg.resetAfter`) says which cell they are for, so build the module as the
 * Keras layer is.
 *
 * @param module - the `RNN`, `LSTM` or `GRU` module to load into.
 * @param weights - the flat list (`model.getWeights()` order, as {@link fromKerasWeightList} takes)
 *   or one entry per layer (as {@link fromKerasWeights} takes).
 * @param cfg - optional: every field given (`cell`, `resetAfter`, `numLayers`, ...) must agree with the module's config.
 * @returns the state dict loaded (PyTorch's names; `bias_hh` zero for a single Keras bias).
 * @throws TypeError for a module, weights or tensor of the wrong kind.
 * @throws RangeError naming the field when `cfg` disagrees with the module, or as {@link fromKerasWeightList} for the weights.
 */
export function loadKerasWeights(
  module: KerasRecurrentModule,
  weights: readonly Tensor[] | readonly KerasRnnLayerWeights[],
  cfg?: Partial<KerasConversionConfig>,
): Record<string, Tensor> {
  if (!isRecurrentModule(module) || typeof (module as { loadStateDict?: unknown }).loadStateDict !== 'function') {
    throw typeError('module', 'an RNN, LSTM or GRU module', module);
  }
  const sizes = checkConfig(moduleConversionConfig(module, cfg));
  if (!Array.isArray(weights)) throw typeError('weights', 'an array: the Keras weight list, or one entry per layer', weights);
  const first: unknown = weights[0];
  const perLayer = first !== null && typeof first === 'object' && 'forward' in first;
  const stateDict = perLayer
    ? layersToStateDict(weights as readonly KerasRnnLayerWeights[], sizes, 'weights')
    : listToStateDict(weights as readonly Tensor[], sizes, 'weights');
  module.loadStateDict(stateDict);
  return stateDict;
}
