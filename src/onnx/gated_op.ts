/**
 * The ONNX `LSTM` and `GRU` operators (LSTM-7/GRU-7 and the -14/-22 versions, which add
 * `layout`; the interpreter reads opsets 7 to 23): attributes, input checks, and
 * dispatch of each direction to the TypeScript implementation in `gated_generic.ts` (every
 * attribute) or, where the cell is one rnnblas has natively (PyTorch's; for GRU also
 * `linear_before_reset=0`, `GRU({ resetAfter: false })`), to the native core (`gated_native.ts`).
 */
import { NodeAttributes } from './attributes.js';
import { gruGenericDirection, lstmGenericDirection, type GatedDirectionArgs, type GatedDirectionResult } from './gated_generic.js';
import { nativeGatedBidirectional, nativeGatedDirection } from './gated_native.js';
import { floatInput, wrapTensor, type Kernel, type KernelOutputs, type NodeInfo, type RunContext } from './ops.js';
import type { OnnxTensor } from './proto.js';
import type { OnnxActivation } from './rnn_generic.js';
import { activationsAttribute, shapeStr, swap01 } from './rnn_op.js';
import { nodeError, onnxError } from './errors.js';

/** The two gated operators. */
export type GatedOp = 'LSTM' | 'GRU';

/** An LSTM or GRU node's attributes, resolved. */
export interface GatedAttributes {
  /** The operator. */
  readonly op: GatedOp;
  /** `hidden_size`, or undefined to take it from R. */
  readonly hiddenSize: number | undefined;
  /** `direction`. */
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  /** Per direction its activations (f, g, h for LSTM; f, g for GRU), alpha and beta resolved. */
  readonly activations: ReadonlyArray<readonly OnnxActivation[]>;
  /** `clip`, or null for none. */
  readonly clip: number | null;
  /** `layout`: 0 for [T,B,*], 1 for [B,T,*]. */
  readonly layout: 0 | 1;
  /** LSTM `input_forget`. */
  readonly inputForget: boolean;
  /** GRU `linear_before_reset`. */
  readonly linearBeforeReset: boolean;
}

/** Gate blocks: 4 (LSTM: i, o, f, c) or 3 (GRU: z, r, h). */
export function onnxGateCount(op: GatedOp): number {
  return op === 'LSTM' ? 4 : 3;
}

const COMMON = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size'];

/** Reads and checks an LSTM or GRU node's attributes (at load time). */
export function gatedAttributes(info: NodeInfo, op: GatedOp): GatedAttributes {
  if (info.opset < 7) throw onnxError('unsupported', `Unsupported ${info.label}: ${op} before opset 7 (${op}-1${op === 'GRU' ? ', GRU-3' : ''}) is not supported; the model's opset is ${info.opset}`);
  const names = [...COMMON, op === 'LSTM' ? 'input_forget' : 'linear_before_reset', ...(info.opset >= 14 ? ['layout'] : [])];
  const attrs = new NodeAttributes(info.node, info.label, names);
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
  if (clipValue !== undefined && !(clipValue > 0)) throw attrs.badValue('clip', clipValue, 'a positive number (the cell clip threshold)');
  const clip = clipValue === undefined || clipValue === Infinity ? null : clipValue;
  const flag = (name: string): boolean => {
    const v = attrs.int(name, 0);
    if (v !== 0 && v !== 1) throw attrs.badValue(name, v, '0 or 1');
    return v === 1;
  };
  const inputForget = op === 'LSTM' ? flag('input_forget') : false;
  const linearBeforeReset = op === 'GRU' ? flag('linear_before_reset') : false;
  const defaults = op === 'LSTM' ? (['Sigmoid', 'Tanh', 'Tanh'] as const) : (['Sigmoid', 'Tanh'] as const);
  const flat = activationsAttribute(attrs, defaults, D, op === 'LSTM' ? 'f, g, h per direction' : 'f, g per direction', direction);
  const k = defaults.length;
  const activations = Array.from({ length: D }, (_, d) => flat.slice(d * k, (d + 1) * k));
  return { op, hiddenSize, direction, activations, clip, layout, inputForget, linearBeforeReset };
}

/**
 * Why the node's cell is not one of rnnblas' native cells, or null when it is (then it runs
 * natively and converts to a module): the default activations, no clip, no input_forget. Both
 * GRU cells qualify: `linear_before_reset=1` is PyTorch's (`GRU()`), 0 is Keras'
 * reset_after=False (`GRU({ resetAfter: false })`).
 */
export function nativeCellReason(a: GatedAttributes): string | null {
  const std = a.op === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
  for (const acts of a.activations) {
    if (acts.some((x, i) => x.name !== std[i])) return `activations=[${a.activations.flat().map((x) => x.name).join(', ')}] (PyTorch's cell uses ${std.join(', ')})`;
  }
  if (a.clip !== null) return `clip=${a.clip}`;
  if (a.op === 'LSTM' && a.inputForget) return 'input_forget=1';
  return null;
}

/** Compiles an LSTM or GRU node. */
export function compileGated(info: NodeInfo, op: GatedOp): Kernel {
  const attrs = gatedAttributes(info, op);
  const D = attrs.direction === 'bidirectional' ? 2 : 1;
  const G = onnxGateCount(op);
  const lstm = op === 'LSTM';
  const wanted = (k: number): boolean => Boolean((info.node.output ?? [])[k]);
  const standardCell = nativeCellReason(attrs) === null;
  return {
    async run(inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: RunContext): Promise<KernelOutputs> {
      const X = floatInput(info, inputs, 0, 'X');
      const W = floatInput(info, inputs, 1, 'W');
      const R = floatInput(info, inputs, 2, 'R');
      const Bias = inputs[3] ? floatInput(info, inputs, 3, 'B') : undefined;
      const seq = inputs[4];
      const initH = inputs[5] ? floatInput(info, inputs, 5, 'initial_h') : undefined;
      const initC = lstm && inputs[6] ? floatInput(info, inputs, 6, 'initial_c') : undefined;
      const P = lstm && inputs[7] ? floatInput(info, inputs, 7, 'P') : undefined;
      const bad = (what: string, expected: string, got: readonly number[], why = '') =>
        nodeError('invalid', `input ${what}`, info.label, `expected shape ${expected}${why} but received ${shapeStr(got)}`);
      const dirNote = ` (num_directions=${D} for direction=${attrs.direction})`;

      if (X.shape.length !== 3) throw bad('X', attrs.layout === 0 ? '[seq_length, batch_size, input_size]' : '[batch_size, seq_length, input_size]', X.shape);
      const [T, B] = attrs.layout === 0 ? [X.shape[0], X.shape[1]] : [X.shape[1], X.shape[0]];
      const I = X.shape[2];
      if (W.shape.length !== 3) throw bad('W', `[num_directions, ${G}*hidden_size, input_size]`, W.shape);
      if (R.shape.length !== 3) throw bad('R', `[num_directions, ${G}*hidden_size, hidden_size]`, R.shape);
      const H = attrs.hiddenSize ?? R.shape[2];
      const GH = G * H;
      if (W.shape[0] !== D || W.shape[1] !== GH || W.shape[2] !== I) {
        const why = W.shape[0] !== D ? dirNote : W.shape[1] !== GH ? ` (${G} gates x hidden_size ${H})` : ' (input_size from X)';
        throw bad('W', shapeStr([D, GH, I]), W.shape, why);
      }
      if (R.shape[0] !== D || R.shape[1] !== GH || R.shape[2] !== H) throw bad('R', shapeStr([D, GH, H]), R.shape, R.shape[0] !== D ? dirNote : ` (${G} gates x hidden_size ${H})`);
      if (Bias && (Bias.shape.length !== 2 || Bias.shape[0] !== D || Bias.shape[1] !== 2 * GH)) throw bad('B', shapeStr([D, 2 * GH]), Bias.shape, ' ([Wb | Rb])');
      if (P && (P.shape.length !== 2 || P.shape[0] !== D || P.shape[1] !== 3 * H)) throw bad('P', shapeStr([D, 3 * H]), P.shape, ' (peepholes i, o, f)');
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
      for (const [t, name] of [[initH, 'initial_h'], [initC, 'initial_c']] as const) {
        if (t && (t.shape.length !== 3 || t.shape.some((d, i) => d !== hShape[i]))) throw bad(name, shapeStr(hShape), t.shape);
      }

      // Every buffer this node makes is sized and charged before the first exists: the outputs,
      // the layout copies, and per direction its outputs, states and reversed copies.
      const yShape = attrs.layout === 0 ? [T, D, B, H] : [B, T, D, H];
      const what = `the outputs of ${info.label}`;
      const nY = ctx.budget.shape(what, yShape);
      const nH = ctx.budget.shape(what, hShape);
      const states = lstm ? 2 : 1;
      const layoutCopies = attrs.layout === 1 ? T * B * I + (initH ? D * B * H : 0) + (initC ? D * B * H : 0) : 0;
      // The native path: reversed copies of x and y (one direction) or the stacked states and
      // [T,B,2H] output (both at once), and the weights permuted to PyTorch's order.
      const native = standardCell ? 2 * (T * B * I + T * B * H) + 2 * D * B * H + D * (GH * (I + H) + 2 * GH) : 0;
      const scratch = layoutCopies + D * (T * B * H + states * B * H) + native;
      ctx.budget.charge(what, nY + (1 + states) * nH + scratch);
      const Y = new Float32Array(nY);
      const Yh = new Float32Array(nH);
      const Yc = new Float32Array(lstm ? nH : 0);
      const outputs = (): KernelOutputs => {
        const out: KernelOutputs = [
          wanted(0) ? wrapTensor(ctx, what, 'float32', yShape, Y) : undefined,
          wanted(1) ? wrapTensor(ctx, what, 'float32', hShape, Yh) : undefined,
        ];
        if (lstm) out.push(wanted(2) ? wrapTensor(ctx, what, 'float32', hShape, Yc) : undefined);
        return out;
      };
      // No state to carry (no batch or no hidden units): empty outputs, no loop over the other dims.
      if (nH === 0) return outputs();

      const x = attrs.layout === 0 ? X.data : swap01(X.data, B, T, I);
      const h0 = initH ? (attrs.layout === 0 ? initH.data : swap01(initH.data, B, D, H)) : null;
      const c0 = initC ? (attrs.layout === 0 ? initC.data : swap01(initC.data, B, D, H)) : null;

      const dirArgs: GatedDirectionArgs[] = [];
      for (let d = 0; d < D; d++) {
        dirArgs.push({
          x,
          w: W.data.subarray(d * GH * I, (d + 1) * GH * I),
          r: R.data.subarray(d * GH * H, (d + 1) * GH * H),
          wb: Bias ? Bias.data.subarray(d * 2 * GH, d * 2 * GH + GH) : null,
          rb: Bias ? Bias.data.subarray(d * 2 * GH + GH, (d + 1) * 2 * GH) : null,
          p: P ? P.data.subarray(d * 3 * H, (d + 1) * 3 * H) : null,
          h0: h0 ? h0.subarray(d * B * H, (d + 1) * B * H) : null,
          c0: c0 ? c0.subarray(d * B * H, (d + 1) * B * H) : null,
          lengths,
          reverse: attrs.direction === 'reverse' || d === 1,
          activations: attrs.activations[d],
          clip: attrs.clip,
          inputForget: attrs.inputForget,
          linearBeforeReset: attrs.linearBeforeReset,
          T, B, I, H,
        });
      }
      // Per direction: its outputs at row (t*B + b)*stride + offset of y, its states [B,H].
      let views: Array<{ y: Float32Array; stride: number; offset: number; h: Float32Array; c: Float32Array | null }>;
      const both = standardCell && D === 2 ? nativeGatedBidirectional(op, dirArgs[0], dirArgs[1]) : null;
      if (both) {
        // One native call runs both directions: y [T,B,2H], states [2,B,H].
        const r = await both;
        views = [0, 1].map((d) => ({ y: r.y, stride: 2 * H, offset: d * H, h: r.h.subarray(d * B * H, (d + 1) * B * H), c: r.c ? r.c.subarray(d * B * H, (d + 1) * B * H) : null }));
      } else {
        const runs = dirArgs.map((args): Promise<GatedDirectionResult> => {
          const viaNative = standardCell ? nativeGatedDirection(op, args) : null;
          return viaNative ?? Promise.resolve(lstm ? lstmGenericDirection(args) : gruGenericDirection(args));
        });
        views = (await Promise.all(runs)).map((r) => ({ y: r.y, stride: H, offset: 0, h: r.h, c: r.c }));
      }

      views.forEach(({ y, stride, offset, h, c }, d) => {
        if (wanted(0)) {
          for (let t = 0; t < T; t++) {
            for (let b = 0; b < B; b++) {
              const dst = attrs.layout === 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
              const src = (t * B + b) * stride + offset;
              Y.set(y.subarray(src, src + H), dst);
            }
          }
        }
        for (let b = 0; b < B; b++) {
          const dst = attrs.layout === 0 ? (d * B + b) * H : (b * D + d) * H;
          Yh.set(h.subarray(b * H, (b + 1) * H), dst);
          if (c) Yc.set(c.subarray(b * H, (b + 1) * H), dst);
        }
      });
      return outputs();
    },
  };
}
