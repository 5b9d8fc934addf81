/**
 * The ONNX `RNN` operator (opsets 7, 14 and 22): attributes, input checks,
 * and dispatch of each direction to the native core (Tanh or Relu without
 * clip) or to the TypeScript implementation (everything else).
 */
import { rnnConfig } from '../nn/rnn_config.js';
import { rnnForwardAsync, type RnnWeights } from '../nn/rnn_functional.js';
import type { Tensor } from '../tensor.js';
import { NodeAttributes } from './attributes.js';
import { floatInput, wrapTensor, type Kernel, type KernelOutputs, type NodeInfo, type RunContext } from './ops.js';
import type { OnnxTensor } from './proto.js';
import { ACTIVATION_PARAMS, ONNX_ACTIVATIONS, rnnGenericDirection, type GenericRnnArgs, type OnnxActivation, type OnnxActivationName } from './rnn_generic.js';
import { nodeError, onnxError } from './errors.js';

/** The RNN node's attributes, resolved. */
export interface RnnAttributes {
  /** `hidden_size`, or undefined to take it from W. */
  readonly hiddenSize: number | undefined;
  /** `direction`. */
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  /** One activation per direction, alpha and beta resolved. */
  readonly activations: readonly OnnxActivation[];
  /** `clip`, or null for none (absent or negative, as onnxruntime reads it). */
  readonly clip: number | null;
  /** `layout`: 0 for [T,B,*], 1 for [B,T,*]. */
  readonly layout: 0 | 1;
}

const RNN_ATTRIBUTES = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

/**
 * Assigns alpha and beta to the activations as the ONNX text says (and
 * onnxruntime does): each list is consumed in order by the functions that
 * take that parameter, so `activations=[Tanh, LeakyRelu]` with
 * `activation_alpha=[0.2]` gives LeakyRelu alpha 0.2. A function left without
 * a value gets the default of the ONNX operator of the same name
 * (ACTIVATION_PARAMS); values beyond those consumed are ignored.
 */
export function resolveActivations(names: readonly OnnxActivationName[], alphas: readonly number[] | undefined, betas: readonly number[] | undefined): OnnxActivation[] {
  const pick = (list: readonly number[] | undefined, key: 'alpha' | 'beta'): number[] => {
    let next = 0;
    return names.map((name) => {
      const def = ACTIVATION_PARAMS[name][key];
      if (def === undefined) return 0;
      return list && next < list.length ? list[next++] : def;
    });
  };
  const a = pick(alphas, 'alpha');
  const b = pick(betas, 'beta');
  return names.map((name, i) => ({ name, alpha: a[i], beta: b[i] }));
}

/** Reads and checks an RNN node's attributes (at load time). */
export function rnnAttributes(info: NodeInfo): RnnAttributes {
  if (info.opset < 7) throw onnxError('unsupported', `Unsupported ${info.label}: RNN before opset 7 (RNN-1) is not supported; the model's opset is ${info.opset}`);
  const attrs = new NodeAttributes(info.node, info.label, info.opset >= 14 ? RNN_ATTRIBUTES : RNN_ATTRIBUTES.filter((n) => n !== 'layout'));
  const direction = attrs.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw attrs.badValue('direction', direction, "'forward', 'reverse' or 'bidirectional'");
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const hiddenSize = attrs.int('hidden_size');
  if (hiddenSize !== undefined && (!Number.isSafeInteger(hiddenSize) || hiddenSize < 1)) throw attrs.badValue('hidden_size', hiddenSize, 'a positive integer');
  const layout = attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw attrs.badValue('layout', layout, '0 or 1');
  const clipValue = attrs.float('clip');
  const clip = clipValue === undefined || clipValue < 0 ? null : clipValue;
  if (clip !== null && Number.isNaN(clip)) throw attrs.badValue('clip', clip, 'a number');
  const activations = activationsAttribute(attrs, ['Tanh'], D, 'one per direction', direction);
  return { hiddenSize, direction, activations, clip, layout };
}

/**
 * Reads `activations` (names in any case; `defaults` per direction when absent), checks there
 * are `perDirection.length * D` of them and resolves `activation_alpha`/`activation_beta`.
 */
export function activationsAttribute(attrs: NodeAttributes, defaults: readonly OnnxActivationName[], D: number, what: string, direction: string): OnnxActivation[] {
  const given = attrs.strings('activations');
  const names = (given ?? Array.from({ length: D }, () => defaults).flat()).map((raw) => {
    const canonical = ONNX_ACTIVATIONS.find((n) => n.toLowerCase() === raw.toLowerCase());
    if (!canonical) throw attrs.badValue('activations', raw, `one of ${ONNX_ACTIVATIONS.join(', ')}`);
    return canonical;
  });
  const n = defaults.length * D;
  if (names.length !== n) throw attrs.badValue('activations', given, `${n} activation${n > 1 ? 's' : ''} (${what}, direction=${direction})`);
  return resolveActivations(names, attrs.floats('activation_alpha'), attrs.floats('activation_beta'));
}

/** `[a, b, c]`. */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** [A,B,F] -> [B,A,F]. */
export function swap01(src: Float32Array, A: number, B: number, F: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) out.set(src.subarray((a * B + b) * F, (a * B + b + 1) * F), (b * A + a) * F);
  return out;
}

/** Reverses each batch entry's first len_b steps of a time-major [T,B,F] buffer (self-inverse). */
export function reverseWithinLengths(src: Float32Array, T: number, B: number, F: number, lengths: Int32Array | null): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    for (let t = 0; t < T; t++) {
      const from = t < len ? len - 1 - t : t;
      out.set(src.subarray((from * B + b) * F, (from * B + b + 1) * F), (t * B + b) * F);
    }
  }
  return out;
}

/** One direction of one RNN node. */
type DirectionArgs = GenericRnnArgs;

/** Whether a direction can run on the native core. */
function nativeCapable(a: DirectionArgs): boolean {
  const act = a.activation.name;
  if (act !== 'Tanh' && act !== 'Relu') return false;
  if (a.clip !== null) return false;
  if (a.T < 1 || a.B < 1 || a.I < 1 || a.H < 1) return false;
  if (a.lengths && a.lengths.some((l) => l < 1)) return false;
  return true;
}

async function runNative(a: DirectionArgs): Promise<{ y: Float32Array; h: Float32Array }> {
  const { T, B, I, H } = a;
  const bias = a.wb !== null;
  const cfg = rnnConfig({ inputSize: I, hiddenSize: H, nonlinearity: a.activation.name === 'Tanh' ? 'tanh' : 'relu', bias });
  const weights: Record<string, Tensor> = {
    weight_ih_l0: { data: a.w, shape: [H, I] },
    weight_hh_l0: { data: a.r, shape: [H, H] },
  };
  if (bias) {
    weights.bias_ih_l0 = { data: a.wb as Float32Array, shape: [H] };
    weights.bias_hh_l0 = { data: a.rb as Float32Array, shape: [H] };
  }
  const x = a.reverse ? reverseWithinLengths(a.x, T, B, I, a.lengths) : a.x;
  const r = await rnnForwardAsync(cfg, weights as RnnWeights, { data: x, shape: [T, B, I] }, {
    h0: a.h0 ? { data: a.h0, shape: [1, B, H] } : undefined,
    seqLengths: a.lengths ?? undefined,
  });
  const y = a.reverse ? reverseWithinLengths(r.y.data, T, B, H, a.lengths) : r.y.data;
  return { y, h: r.hN.data };
}

/** Compiles an RNN node. */
export function compileRnn(info: NodeInfo): Kernel {
  const attrs = rnnAttributes(info);
  const D = attrs.direction === 'bidirectional' ? 2 : 1;
  return {
    async run(inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: RunContext): Promise<KernelOutputs> {
      const X = floatInput(info, inputs, 0, 'X');
      const W = floatInput(info, inputs, 1, 'W');
      const R = floatInput(info, inputs, 2, 'R');
      const Bias = inputs[3] ? floatInput(info, inputs, 3, 'B') : undefined;
      const seq = inputs[4];
      const init = inputs[5] ? floatInput(info, inputs, 5, 'initial_h') : undefined;
      const bad = (what: string, expected: string, got: readonly number[]) =>
        nodeError('invalid', `input ${what}`, info.label, `expected shape ${expected} but received ${shapeStr(got)}`);

      if (X.shape.length !== 3) throw bad('X', attrs.layout === 0 ? '[seq_length, batch_size, input_size]' : '[batch_size, seq_length, input_size]', X.shape);
      const [T, B] = attrs.layout === 0 ? [X.shape[0], X.shape[1]] : [X.shape[1], X.shape[0]];
      const I = X.shape[2];
      if (W.shape.length !== 3) throw bad('W', '[num_directions, hidden_size, input_size]', W.shape);
      const H = attrs.hiddenSize ?? W.shape[1];
      if (W.shape[0] !== D || W.shape[1] !== H || W.shape[2] !== I) throw bad('W', shapeStr([D, H, I]), W.shape);
      if (R.shape.length !== 3 || R.shape[0] !== D || R.shape[1] !== H || R.shape[2] !== H) throw bad('R', shapeStr([D, H, H]), R.shape);
      if (Bias && (Bias.shape.length !== 2 || Bias.shape[0] !== D || Bias.shape[1] !== 2 * H)) throw bad('B', shapeStr([D, 2 * H]), Bias.shape);
      let lengths: Int32Array | null = null;
      if (seq) {
        if (seq.dtype !== 'int32') throw nodeError('unsupported', `dtype ${seq.dtype} of input sequence_lens`, info.label, 'expected int32');
        if (seq.shape.length !== 1 || seq.shape[0] !== B) throw bad('sequence_lens', shapeStr([B]), seq.shape);
        lengths = seq.data;
        for (let b = 0; b < B; b++) {
          if (lengths[b] < 0 || lengths[b] > T) {
            throw nodeError('invalid', `value ${lengths[b]} at index ${b} of input sequence_lens`, info.label, `expected 0..${T} (seq_length)`);
          }
        }
      }
      const hShape = attrs.layout === 0 ? [D, B, H] : [B, D, H];
      if (init && (init.shape.length !== 3 || init.shape.some((d, i) => d !== hShape[i]))) throw bad('initial_h', shapeStr(hShape), init.shape);

      // Every buffer this node makes is sized and charged before the first exists: the outputs,
      // the layout copies, and per direction its outputs and reversed copies.
      const yShape = attrs.layout === 0 ? [T, D, B, H] : [B, T, D, H];
      const what = `the outputs of ${info.label}`;
      const nY = ctx.budget.shape(what, yShape);
      const nH = ctx.budget.shape(what, hShape);
      const reversed = attrs.direction === 'forward' ? 0 : 1; // one direction runs on reversed copies
      const scratch = (attrs.layout === 1 ? T * B * I + (init ? D * B * H : 0) : 0) + D * (T * B * H + B * H) + reversed * (T * B * I + T * B * H);
      ctx.budget.charge(what, nY + nH + scratch);
      const Y = new Float32Array(nY);
      const Yh = new Float32Array(nH);
      const outputs = (): KernelOutputs => [wrapTensor(ctx, what, 'float32', yShape, Y), wrapTensor(ctx, what, 'float32', hShape, Yh)];
      // No state to carry (no batch or no hidden units): empty outputs, no loop over the other dims.
      if (nH === 0) return outputs();

      const x = attrs.layout === 0 ? X.data : swap01(X.data, B, T, I);
      const h0 = init ? (attrs.layout === 0 ? init.data : swap01(init.data, B, D, H)) : null;

      const runs: Array<Promise<{ y: Float32Array; h: Float32Array }>> = [];
      for (let d = 0; d < D; d++) {
        const args: DirectionArgs = {
          x,
          w: W.data.subarray(d * H * I, (d + 1) * H * I),
          r: R.data.subarray(d * H * H, (d + 1) * H * H),
          wb: Bias ? Bias.data.subarray(d * 2 * H, d * 2 * H + H) : null,
          rb: Bias ? Bias.data.subarray(d * 2 * H + H, (d + 1) * 2 * H) : null,
          h0: h0 ? h0.subarray(d * B * H, (d + 1) * B * H) : null,
          lengths,
          reverse: attrs.direction === 'reverse' || d === 1,
          activation: attrs.activations[d],
          clip: attrs.clip,
          T, B, I, H,
        };
        runs.push(nativeCapable(args) ? runNative(args) : Promise.resolve(rnnGenericDirection(args)));
      }
      const results = await Promise.all(runs);

      results.forEach(({ y, h }, d) => {
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) {
            const dst = attrs.layout === 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
            Y.set(y.subarray((t * B + b) * H, (t * B + b + 1) * H), dst);
          }
        }
        for (let b = 0; b < B; b++) {
          const dst = attrs.layout === 0 ? (d * B + b) * H : (b * D + d) * H;
          Yh.set(h.subarray(b * H, (b + 1) * H), dst);
        }
      });
      return outputs();
    },
  };
}
