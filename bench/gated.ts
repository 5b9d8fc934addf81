/**
 * The LSTM / GRU layer the rnnblas benchmark children run for L1, G1, L5, G5:
 * the functional API (rnnForward / rnnBackward on an 'LSTM' | 'GRU' configuration,
 * weights by PyTorch state-dict name in native-owned memory, one RnnWorkspace reused
 * across steps, as the RNN module does), behind the few methods of the modules the
 * train step uses.
 */
import { nativeFloats } from '../src/native/binding.js';
import { rnnConfig, rnnParameterShapes, type GatedOptions } from '../src/nn/rnn_config.js';
import { RnnWorkspace, rnnBackward, rnnForward, type RnnTape } from '../src/nn/rnn_functional.js';
import type { Parameter, Tensor } from '../src/tensor.js';
import { Lcg } from './common.js';

/** What the benchmark's train and forward steps call on a recurrent layer. */
export interface BenchRecurrent {
  forward(x: Tensor): { y: Tensor };
  backward(grads: { gy: Tensor }, opts: { inputGrad: boolean }): unknown;
  parameters(): Parameter[];
  eval(): void;
}

/** An LSTM or GRU stack with PyTorch's initialisation (U(-1/√H, 1/√H), seeded). */
export function gatedRecurrent(cell: 'LSTM' | 'GRU', options: GatedOptions & { seed: number }): BenchRecurrent {
  const cfg = rnnConfig(options, cell);
  const rng = new Lcg(options.seed);
  const k = 1 / Math.sqrt(cfg.hiddenSize);
  const params: Parameter[] = [];
  const weights: Record<string, Tensor> = {};
  const grads: Record<string, Float32Array> = {};
  for (const [name, shape] of rnnParameterShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = nativeFloats(n);
    data.set(rng.floats(n, -k, k));
    const grad = nativeFloats(n);
    grad.fill(0);
    params.push({ name, shape, data, grad });
    weights[name] = { data, shape };
    grads[name] = grad;
  }
  const workspace = new RnnWorkspace();
  let training = true;
  let tape: RnnTape | null = null;
  return {
    forward(x) {
      const r = rnnForward(cfg, weights, x, { workspace, training });
      tape = training ? r.tape : null;
      return r;
    },
    backward({ gy }, { inputGrad }) {
      if (!tape) throw new Error('backward without a training forward');
      const r = rnnBackward(tape, { gy }, grads, { inputGrad, workspace });
      tape = null;
      return r;
    },
    parameters: () => params,
    eval() {
      training = false;
    },
  };
}
