/**
 * The training layer bench/profile.ts times call by call: the library's own Linear,
 * cross-entropy / MSE and SGD as separate module calls. (run.ts's train step builds the
 * model as a Sequential instead: bench/impl_rnnblas.ts.)
 */
import { Linear } from '../src/nn/linear.js';
import { crossEntropy, mseLoss } from '../src/nn/losses.js';
import { SGD } from '../src/optim/sgd.js';
import type { Parameter, Tensor } from '../src/tensor.js';

/** A Linear layer as the benchmark uses it. */
export interface KitLinear {
  forward(x: Tensor): Tensor;
  backward(gy: Tensor): Tensor;
  parameters(): Parameter[];
}

/** An optimizer as the benchmark uses it. */
export interface KitOptimizer {
  step(): void;
  zeroGrad(): void;
}

/** Everything a train step needs besides the RNN. */
export interface TrainKit {
  /** Where each piece came from. */
  source: { linear: string; losses: string; sgd: string };
  linear(inFeatures: number, outFeatures: number): KitLinear;
  crossEntropy(logits: Tensor, targets: Int32Array): { loss: number; grad: Tensor };
  mse(pred: Tensor, target: Tensor): { loss: number; grad: Tensor };
  sgd(params: Parameter[], lr: number): KitOptimizer;
}

/** The library's training layer. */
export async function loadTrainKit(): Promise<TrainKit> {
  return {
    source: { linear: 'src/nn/linear.ts', losses: 'src/nn/losses.ts', sgd: 'src/optim/sgd.ts' },
    linear: (i, o) => {
      const l = new Linear({ inFeatures: i, outFeatures: o, seed: 1 });
      return { forward: (x) => l.forward(x), backward: (g) => l.backward(g) as Tensor, parameters: () => l.parameters() };
    },
    crossEntropy: (logits, targets) => crossEntropy(logits, targets, { reduction: 'mean' }),
    mse: (p, t) => mseLoss(p, t),
    sgd: (params, lr) => new SGD(params, { lr }),
  };
}
