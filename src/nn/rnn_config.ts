/**
 * RNN hyper-parameters, their defaults and validation (torch.nn.RNN's).
 */
import { rangeError } from '../errors.js';
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
}

/** A complete, validated RNN configuration. */
export interface RnnConfig {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly nonlinearity: 'tanh' | 'relu';
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  readonly dropout: number;
}

const KNOWN = ['inputSize', 'hiddenSize', 'numLayers', 'nonlinearity', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'seed'] as const;

/** Most parameters one RNN may have (one Float32Array arena of at most 2^31-1 floats). */
export const MAX_PARAMETERS = 2 ** 31 - 1;

/** Largest hidden or input width accepted (keeps every GEMM dimension within BLAS's int). */
export const MAX_WIDTH = 1 << 20;

const validated = new WeakSet<object>();

/** Validates options and fills in PyTorch's defaults (a config it made before is returned as is). */
export function rnnConfig(options: unknown): RnnConfig {
  if (typeof options === 'object' && options !== null && validated.has(options)) return options as RnnConfig;
  if (options === undefined) throw new TypeError('Expected an options object with inputSize and hiddenSize for options but received undefined');
  const o = checkOptions<RnnOptions>('options', options, KNOWN);
  const cfg: RnnConfig = {
    inputSize: checkInt('inputSize', o.inputSize, 1, MAX_WIDTH),
    hiddenSize: checkInt('hiddenSize', o.hiddenSize, 1, MAX_WIDTH),
    numLayers: checkInt('numLayers', o.numLayers ?? 1, 1, 1024),
    nonlinearity: checkOneOf('nonlinearity', o.nonlinearity ?? 'tanh', ['tanh', 'relu'] as const),
    bias: checkBool('bias', o.bias ?? true),
    batchFirst: checkBool('batchFirst', o.batchFirst ?? false),
    bidirectional: checkBool('bidirectional', o.bidirectional ?? false),
    dropout: checkNumber('dropout', o.dropout ?? 0, 0, 1),
  };
  if (cfg.dropout >= 1) throw rangeError('dropout', 'a probability in [0, 1)', cfg.dropout);
  if (o.seed !== undefined) checkInt('seed', o.seed, 0, 2 ** 53);
  // Refuse impossible sizes here, with a message, rather than as an allocation failure.
  const params = rnnParameterShapes(cfg).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  if (params > MAX_PARAMETERS) {
    throw rangeError('options', `at most ${MAX_PARAMETERS} parameters in total`, `${params} (inputSize ${cfg.inputSize}, hiddenSize ${cfg.hiddenSize}, numLayers ${cfg.numLayers})`);
  }
  Object.freeze(cfg);
  validated.add(cfg);
  return cfg;
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

/** Parameter names and shapes in PyTorch's order (weight_ih, weight_hh, bias_ih, bias_hh; forward then reverse; layer by layer). */
export function rnnParameterShapes(cfg: RnnConfig): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  const H = cfg.hiddenSize;
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < numDirections(cfg); d++) {
      const s = layerSuffix(k, d);
      out.push([`weight_ih_${s}`, [H, layerInputSize(cfg, k)]]);
      out.push([`weight_hh_${s}`, [H, H]]);
      if (cfg.bias) {
        out.push([`bias_ih_${s}`, [H]]);
        out.push([`bias_hh_${s}`, [H]]);
      }
    }
  }
  return out;
}
