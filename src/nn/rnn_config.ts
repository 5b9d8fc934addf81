/**
 * Recurrent-layer hyper-parameters, their defaults and validation
 * (torch.nn.RNN's, LSTM's and GRU's: one configuration, a `mode` apart).
 */
import { describe, rangeError } from '../errors.js';
import { checkBool, checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';

/** Options accepted by `new RNN(...)` and the functional form. */
export interface RnnOptions {
  /** Features per input step (I). */
  inputSize: number;
  /** Features of the hidden state (H). */
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Activation (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
  /** Whether layers have b_ih and b_hh (default true). */
  bias?: boolean;
  /** Inputs and outputs as [B,T,F] instead of [T,B,F] (default false). */
  batchFirst?: boolean;
  /** Run a second pass from the end to the start and concatenate (default false). */
  bidirectional?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Seed for initialisation and dropout (default: random). */
  seed?: number;
  /**
   * Initialisation recipe (default: PyTorch's, every parameter from U(-1/√H, 1/√H)). Only the
   * initial values depend on it: it is not part of {@link RnnConfig} nor of model files.
   */
  init?: RnnInitOptions;
}

/**
 * Initialisation recipes for `new RNN({ ..., init })`, applied to every layer and direction
 * after PyTorch's default draw (parameters a recipe does not name keep the default values).
 *
 * The IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent Networks of
 * Rectified Linear Units", is `{ nonlinearity: 'relu', init: { weightHh: 'identity', bias: 0 } }`
 * (the paper also draws the input weights from a small Gaussian: use
 * `init.normal_(p, 0, 0.001)` on the `weight_ih_*` parameters for that).
 */
export interface RnnInitOptions {
  /**
   * Recurrent weights `weight_hh_*`: `'default'` (PyTorch's uniform), `'identity'`
   * (`gain` × I, as `init.eye_`) or `'orthogonal'` (as `init.orthogonal_(w, gain)`).
   */
  weightHh?: 'default' | 'identity' | 'orthogonal';
  /** Scale of the identity or orthogonal recurrent weights (default 1; only with those two). */
  gain?: number;
  /**
   * Input weights `weight_ih_*`: `'default'`, `'xavierUniform'` (as `init.xavierUniform_`,
   * gain 1) or `'orthogonal'` (as `init.orthogonal_`, gain 1; semi-orthogonal when not square).
   */
  weightIh?: 'default' | 'xavierUniform' | 'orthogonal';
  /** Every bias (`bias_ih_*` and `bias_hh_*`) set to this value (default: PyTorch's uniform). Needs `bias: true`. */
  bias?: number;
}

/**
 * Options accepted by `new LSTM(...)` and `new GRU(...)`: those of {@link RnnOptions} but the
 * nonlinearity (the gated cells' activations are fixed: sigmoid gates, tanh candidate), plus
 * the GRU's `resetAfter`.
 */
export interface GatedOptions extends Omit<RnnOptions, 'nonlinearity'> {
  /**
   * GRU only (an LSTM given it is a RangeError): where the reset gate acts. `true` (the
   * default) is PyTorch's `torch.nn.GRU`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h' + b_hn))`
   * (Keras `reset_after=True`, ONNX `linear_before_reset=1`). `false` applies it to the state
   * before the recurrent product, `n = tanh(W_in x + b_in + W_hn (r ⊙ h') + b_hn)`: Keras'
   * `reset_after=False` (the only GRU TensorFlow.js builds) and ONNX's default
   * `linear_before_reset=0`. That cell is not PyTorch's: its parameters have the same names,
   * shapes and gate order (r, z, n), so its state dict loads into `torch.nn.GRU`, which then
   * computes something else.
   */
  resetAfter?: boolean;
}

/** The cell of a recurrent layer, as PyTorch's `RNNBase.mode` names it (RNN for both Elman activations). */
export type RnnMode = 'RNN' | 'LSTM' | 'GRU';

/** A validated {@link RnnInitOptions} with its defaults filled in. */
export interface RnnInitRecipe {
  /** Recurrent weights' recipe. */
  readonly weightHh: 'default' | 'identity' | 'orthogonal';
  /** Scale of identity / orthogonal recurrent weights. */
  readonly gain: number;
  /** Input weights' recipe. */
  readonly weightIh: 'default' | 'xavierUniform' | 'orthogonal';
  /** Constant bias value, or null for PyTorch's default draw. */
  readonly bias: number | null;
}

/** A complete, validated RNN configuration. */
export interface RnnConfig {
  /** The cell: Elman ('RNN'), LSTM or GRU. */
  readonly mode: RnnMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  /** The Elman cell's activation ('tanh' for the gated cells, whose activations are fixed). */
  readonly nonlinearity: 'tanh' | 'relu';
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  readonly dropout: number;
  /**
   * GRU: where the reset gate acts (see {@link GatedOptions.resetAfter}); always present for
   * a GRU (default true: PyTorch's cell), absent for RNN and LSTM.
   */
  readonly resetAfter?: boolean;
}

// `mode` is accepted so a configuration can be spread into options (it must match).
// `resetAfter` is known to every mode so an RNN or LSTM given it hears why it is refused.
const KNOWN = ['mode', 'inputSize', 'hiddenSize', 'numLayers', 'nonlinearity', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'seed', 'init', 'resetAfter'] as const;

/** Most parameters one RNN may have (one Float32Array arena of at most 2^31-1 floats). */
export const MAX_PARAMETERS = 2 ** 31 - 1;

/** Largest hidden or input width accepted (keeps every GEMM dimension within BLAS's int). */
export const MAX_WIDTH = 1 << 20;

const validated = new WeakSet<object>();

const GATED_KNOWN = KNOWN.filter((k) => k !== 'nonlinearity');

/**
 * Validates options and fills in PyTorch's defaults (a config it made before is returned as is).
 *
 * @param options - {@link RnnOptions} (mode 'RNN') or {@link GatedOptions} (LSTM, GRU; `resetAfter` only for GRU).
 * @param mode - The cell the options are for (default 'RNN').
 */
export function rnnConfig(options: unknown, mode: RnnMode = 'RNN'): RnnConfig {
  if (typeof options === 'object' && options !== null && validated.has(options)) {
    const given = options as RnnConfig;
    if (given.mode !== mode) throw rangeError('config', `a configuration of mode '${mode}'`, `one of mode '${given.mode}'`);
    return given;
  }
  if (options === undefined) throw new TypeError('Expected an options object with inputSize and hiddenSize for options but received undefined');
  const o = checkOptions<RnnOptions & { mode?: unknown; resetAfter?: unknown }>('options', options, mode === 'RNN' ? KNOWN : GATED_KNOWN);
  if (o.mode !== undefined && o.mode !== mode) throw rangeError('options.mode', `'${mode}' (or no mode)`, o.mode);
  if (o.resetAfter !== undefined && mode !== 'GRU') {
    throw rangeError('options.resetAfter', 'no resetAfter (it is a GRU option)', `resetAfter ${describe(o.resetAfter)} for ${mode === 'RNN' ? 'an RNN' : 'an LSTM'}`);
  }
  const cfg: { -readonly [K in keyof RnnConfig]: RnnConfig[K] } = {
    mode,
    inputSize: checkInt('inputSize', o.inputSize, 1, MAX_WIDTH),
    hiddenSize: checkInt('hiddenSize', o.hiddenSize, 1, MAX_WIDTH),
    numLayers: checkInt('numLayers', o.numLayers ?? 1, 1, 1024),
    nonlinearity: checkOneOf('nonlinearity', o.nonlinearity ?? 'tanh', ['tanh', 'relu'] as const),
    bias: checkBool('bias', o.bias ?? true),
    batchFirst: checkBool('batchFirst', o.batchFirst ?? false),
    bidirectional: checkBool('bidirectional', o.bidirectional ?? false),
    dropout: checkNumber('dropout', o.dropout ?? 0, 0, 1),
  };
  if (mode === 'GRU') cfg.resetAfter = checkBool('resetAfter', o.resetAfter ?? true);
  if (cfg.dropout >= 1) throw rangeError('dropout', 'a probability in [0, 1)', cfg.dropout);
  if (o.seed !== undefined) checkInt('seed', o.seed, 0, 2 ** 53);
  rnnInitRecipe(o.init, cfg.bias);
  // Refuse impossible sizes here, with a message, rather than as an allocation failure.
  const params = rnnParameterShapes(cfg).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  if (params > MAX_PARAMETERS) {
    throw rangeError('options', `at most ${MAX_PARAMETERS} parameters in total`, `${params} (inputSize ${cfg.inputSize}, hiddenSize ${cfg.hiddenSize}, numLayers ${cfg.numLayers})`);
  }
  Object.freeze(cfg);
  validated.add(cfg);
  return cfg;
}

/**
 * Validates `options.init` (see {@link RnnInitOptions}) and fills in its defaults.
 *
 * @param init - The `init` option (undefined: PyTorch's default initialisation).
 * @param bias - Whether the RNN has biases (a constant `init.bias` needs them).
 * @returns The recipe.
 */
export function rnnInitRecipe(init: unknown, bias: boolean): RnnInitRecipe {
  const o = checkOptions<RnnInitOptions>('init', init, ['weightHh', 'gain', 'weightIh', 'bias']);
  const weightHh = checkOneOf('init.weightHh', o.weightHh ?? 'default', ['default', 'identity', 'orthogonal'] as const);
  const weightIh = checkOneOf('init.weightIh', o.weightIh ?? 'default', ['default', 'xavierUniform', 'orthogonal'] as const);
  if (o.gain !== undefined && weightHh === 'default') {
    throw rangeError('init.gain', "a gain only together with init.weightHh 'identity' or 'orthogonal'", o.gain);
  }
  const gain = checkNumber('init.gain', o.gain ?? 1);
  const b = o.bias === undefined ? null : checkNumber('init.bias', o.bias);
  if (b !== null && !bias) throw rangeError('init.bias', 'no constant bias for an RNN built with bias: false', b);
  return Object.freeze({ weightHh, gain, weightIh, bias: b });
}

/** Whether `config` is a configuration {@link rnnConfig} made (of any mode). */
export function isRnnConfig(config: unknown): config is RnnConfig {
  return typeof config === 'object' && config !== null && validated.has(config);
}

/** Gate blocks G of a mode's weights: 1 (Elman), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). */
export function gateCount(mode: RnnMode): 1 | 3 | 4 {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

/** Directions: 2 when bidirectional, else 1. */
export function numDirections(cfg: RnnConfig): 1 | 2 {
  return cfg.bidirectional ? 2 : 1;
}

/** Input width of layer k. */
export function layerInputSize(cfg: RnnConfig, layer: number): number {
  return layer === 0 ? cfg.inputSize : numDirections(cfg) * cfg.hiddenSize;
}

/** State-dict name suffix of one layer-direction: `l0`, `l0_reverse`, ... */
export function layerSuffix(layer: number, direction: number): string {
  return `l${layer}${direction === 1 ? '_reverse' : ''}`;
}

/**
 * Parameter names and shapes in PyTorch's order (weight_ih, weight_hh, bias_ih, bias_hh; forward
 * then reverse; layer by layer). Gated cells stack their G gate blocks: `weight_ih_l0` is [G*H, I].
 */
export function rnnParameterShapes(cfg: RnnConfig): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  const H = cfg.hiddenSize;
  const GH = gateCount(cfg.mode) * H;
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < numDirections(cfg); d++) {
      const s = layerSuffix(k, d);
      out.push([`weight_ih_${s}`, [GH, layerInputSize(cfg, k)]]);
      out.push([`weight_hh_${s}`, [GH, H]]);
      if (cfg.bias) {
        out.push([`bias_ih_${s}`, [GH]]);
        out.push([`bias_hh_${s}`, [GH]]);
      }
    }
  }
  return out;
}
