/**
 * Invalid arguments of fit, evaluate and predict: each is refused up front,
 * with the error class and message, before any training step runs.
 */
import { describe, expect, it } from 'vitest';
import type { SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, SGD, StepLR } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import { evaluate, fit, predict, type FitOptions } from '../src/train/index.js';

const ids: SequenceDataset = { x: { data: new Int32Array(12), shape: [3, 4] }, y: { data: new Int32Array(12), shape: [3, 4] } };
const floats: SequenceDataset = { x: { data: new Float32Array(12), shape: [3, 4, 1] }, y: { data: new Float32Array(6), shape: [3, 2] } };

function charModel(bidirectional = false): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: 3, embeddingDim: 2, seed: 1 }),
    new RNN({ inputSize: 2, hiddenSize: 3, bidirectional, seed: 2 }),
    new Linear({ inFeatures: bidirectional ? 6 : 3, outFeatures: 3, seed: 3 }),
  ]);
}

describe('fit refuses invalid arguments', () => {
  const m = charModel();
  const opt = new Adam(m.parameters());
  const ok: FitOptions = { epochs: 1, batchSize: 2, loss: 'crossEntropy', optimizer: opt };
  const cases: Array<[string, () => Promise<unknown>, Error]> = [
    ['model', () => fit({} as never, ids, ok), new TypeError('Expected a Sequential for model but received an object (Object)')],
    ['data', () => fit(m, { x: ids.x } as never, ok), new TypeError('Expected a Tensor (Float32Array data) or an IntTensor (Int32Array data) for data.y but received undefined')],
    ['input kind', () => fit(m, { x: floats.x, y: { data: new Int32Array(12), shape: [3, 4] } }, ok), new RangeError('Expected ids [N, T] in an IntTensor (the model starts with an Embedding) for data.x but received float features')],
    ['options', () => fit(m, ids, undefined as never), new TypeError('Expected an options object with batchSize, loss and optimizer for options but received undefined')],
    ['unknown option', () => fit(m, ids, { ...ok, epoch: 1 } as never), new RangeError(`Expected only the options 'epochs', 'steps', 'batchSize', 'loss', 'optimizer', 'metrics', 'clipNorm', 'clipValue', 'tbptt', 'carryState', 'validation', 'validationSplit', 'seed', 'rng', 'shuffle', 'scheduler', 'schedulerStep', 'schedulerMonitor', 'earlyStopping', 'onProgress', 'onBatchEnd', 'onEpochEnd', 'signal', 'checkFinite', 'initialEpoch', 'initialStep', 'progressBar', 'checkpoint', 'resumeFrom' for options but received an unknown option 'epoch'`)],
    ['batchSize', () => fit(m, ids, { ...ok, batchSize: 0 }), new RangeError('Expected an integer in 1..2147483647 for options.batchSize but received 0')],
    ['loss name', () => fit(m, ids, { ...ok, loss: 'nll' as never }), new RangeError(`Expected one of 'crossEntropy', 'mse' for options.loss but received "nll"`)],
    ['loss vs targets', () => fit(m, ids, { ...ok, loss: 'mse' }), new RangeError(`Expected 'crossEntropy' for the class-id targets of data for options.loss but received "mse"`)],
    ['no length', () => fit(m, ids, { ...ok, epochs: undefined }), new RangeError('Expected epochs or steps (or both) for options but received neither')],
    ['epochs', () => fit(m, ids, { ...ok, epochs: 0 }), new RangeError('Expected an integer in 1..9007199254740991 for options.epochs but received 0')],
    ['epochs vs initialEpoch', () => fit(m, ids, { ...ok, epochs: 2, initialEpoch: 2 }), new RangeError('Expected an integer in 3..9007199254740991 for options.epochs but received 2')],
    ['steps', () => fit(m, ids, { ...ok, steps: 1.5 }), new RangeError('Expected an integer in 1..9007199254740991 for options.steps but received 1.5')],
    ['optimizer kind', () => fit(m, ids, { ...ok, optimizer: {} as never }), new TypeError('Expected an Optimizer (SGD, Adam, ...) over the model parameters for options.optimizer but received an object (Object)')],
    ['optimizer params', () => fit(m, ids, { ...ok, optimizer: new SGD(charModel().parameters(), { lr: 1 }) }), new RangeError(`Expected an optimizer over this model's parameters for options.optimizer but received one holding a parameter '0.weight' the model does not have`)],
    ['clipNorm', () => fit(m, ids, { ...ok, clipNorm: -1 }), new RangeError('Expected a number in [0, Infinity] for options.clipNorm but received -1')],
    ['clipValue', () => fit(m, ids, { ...ok, clipValue: NaN }), new RangeError('Expected a number in [0, Infinity] for options.clipValue but received NaN')],
    ['tbptt', () => fit(m, ids, { ...ok, tbptt: 0 }), new RangeError('Expected an integer in 1..2147483647 for options.tbptt but received 0')],
    ['tbptt bidirectional', () => { const b = charModel(true); return fit(b, ids, { ...ok, optimizer: new Adam(b.parameters()), tbptt: 2 }); }, new RangeError('Expected no tbptt with bidirectional RNN layers (their reverse pass needs the whole sequence) for options.tbptt but received 2')],
    ['tbptt seq-to-one', () => { const s = new Sequential([new RNN({ inputSize: 1, hiddenSize: 2 }), new LastStep(), new Linear({ inFeatures: 2, outFeatures: 2 })]); return fit(s, floats, { ...ok, loss: 'mse', optimizer: new Adam(s.parameters()), tbptt: 2 }); }, new RangeError('Expected no tbptt for per-sequence targets (TBPTT needs a target at every step) for options.tbptt but received 2')],
    ['carryState', () => fit(m, ids, { ...ok, carryState: 1 as never }), new TypeError('Expected a boolean for options.carryState but received 1')],
    ['validation', () => fit(m, ids, { ...ok, validation: { x: ids.x, y: floats.y } }), new RangeError(`Expected 'mse' for the float targets of options.validation for options.loss but received "crossEntropy"`)],
    ['seed and rng', () => fit(m, ids, { ...ok, seed: 1, rng: new Rng(1) }), new RangeError('Expected seed or rng, not both for options but received both')],
    ['seed', () => fit(m, ids, { ...ok, seed: -1 }), new RangeError('Expected an integer in 0..9007199254740992 for options.seed but received -1')],
    ['rng', () => fit(m, ids, { ...ok, rng: 5 as never }), new TypeError('Expected an Rng (or use options.seed) for options.rng but received 5')],
    ['shuffle', () => fit(m, ids, { ...ok, shuffle: 'yes' as never }), new TypeError('Expected a boolean for options.shuffle but received "yes"')],
    ['scheduler kind', () => fit(m, ids, { ...ok, scheduler: {} as never }), new TypeError('Expected an LRScheduler (StepLR, ...) for options.scheduler but received an object (Object)')],
    ['scheduler optimizer', () => fit(m, ids, { ...ok, scheduler: new StepLR(new SGD(m.parameters(), { lr: 1 }), { stepSize: 1 }) }), new RangeError('Expected a scheduler of options.optimizer for options.scheduler but received a scheduler of another optimizer')],
    ['schedulerStep', () => fit(m, ids, { ...ok, schedulerStep: 'batch' as never }), new RangeError(`Expected one of 'epoch', 'step' for options.schedulerStep but received "batch"`)],
    ['onProgress', () => fit(m, ids, { ...ok, onProgress: 1 as never }), new TypeError('Expected a function for options.onProgress but received 1')],
    ['onEpochEnd', () => fit(m, ids, { ...ok, onEpochEnd: 'f' as never }), new TypeError('Expected a function for options.onEpochEnd but received "f"')],
    ['signal', () => fit(m, ids, { ...ok, signal: {} as never }), new TypeError('Expected an AbortSignal for options.signal but received an object (Object)')],
    ['checkFinite', () => fit(m, ids, { ...ok, checkFinite: 0 as never }), new TypeError('Expected a boolean for options.checkFinite but received 0')],
    ['initialStep', () => fit(m, ids, { ...ok, initialStep: -2 }), new RangeError('Expected an integer in 0..9007199254740991 for options.initialStep but received -2')],
    ['no target counts', () => fit(m, { x: ids.x, y: { data: new Int32Array(12).fill(-100), shape: [3, 4] } }, { ...ok, epochs: undefined, steps: 5 }), new RangeError('Expected at least one target that is neither padding nor -100 (ignored) for data.y but received none in a whole epoch')],
    ['output vs targets', () => { const s = new Sequential([new Embedding({ numEmbeddings: 3, embeddingDim: 2 }), new RNN({ inputSize: 2, hiddenSize: 3 }), new LastStep(), new Linear({ inFeatures: 3, outFeatures: 3 })]); return fit(s, ids, { ...ok, optimizer: new Adam(s.parameters()) }); }, new RangeError('Expected logits [T, B, C] = [4, 2, C] (one per step, as the targets) for model output but received an output of shape [2, 3]')],
  ];
  for (const [name, run, error] of cases) {
    it(name, async () => {
      const before = m.parameters().map((p) => Array.from(p.data));
      await expect(run()).rejects.toThrow(error);
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(error.constructor);
      expect(m.parameters().map((p) => Array.from(p.data))).toEqual(before);
    });
  }
  // The seq-to-one variant of the output check: per-sequence targets on a per-step model.
  it('per-sequence targets need LastStep', async () => {
    const s = new Sequential([new RNN({ inputSize: 1, hiddenSize: 2 }), new Linear({ inFeatures: 2, outFeatures: 2 })]);
    await expect(fit(s, floats, { epochs: 1, batchSize: 3, loss: 'mse', optimizer: new Adam(s.parameters()) })).rejects.toThrow(
      new RangeError('Expected predictions [3, 2] (one per sequence, as the targets: end the model in LastStep) for model output but received an output of shape [4, 3, 2]'),
    );
  });
});

describe('evaluate / predict refuse invalid arguments', () => {
  const m = charModel();
  it('evaluate', async () => {
    await expect(evaluate(m, ids, undefined as never)).rejects.toThrow(new TypeError('Expected an options object with loss for options but received undefined'));
    await expect(evaluate(m, ids, { loss: 'crossEntropy', batchSize: 0 })).rejects.toThrow(new RangeError('Expected an integer in 1..2147483647 for options.batchSize but received 0'));
    await expect(evaluate(m, ids, { loss: 'crossEntropy', tbptt: -1 })).rejects.toThrow(RangeError);
    await expect(evaluate(m, ids, { loss: 'crossEntropy', shuffle: true } as never)).rejects.toThrow(RangeError);
    await expect(evaluate(null as never, ids, { loss: 'mse' })).rejects.toThrow(new TypeError('Expected a Sequential for model but received null'));
  });
  it('predict', async () => {
    await expect(predict(m, { data: new Int32Array(4), shape: [4] })).rejects.toThrow(new RangeError('Expected [N, T] (ids) for input.x.shape but received [4]'));
    await expect(predict(m, ids.x, { batchSize: -1 })).rejects.toThrow(new RangeError('Expected an integer in 1..2147483647 for options.batchSize but received -1'));
    await expect(predict(m, ids.x, { seqLengths: new Int32Array([1, 2, 9]) })).rejects.toThrow(new RangeError('Expected a length in 1..4 for input.seqLengths[2] but received 9'));
    await expect(predict(m, ids.x, { seqLengths: [1, 2, 3] as never })).rejects.toThrow(new TypeError('Expected an Int32Array for input.seqLengths but received an array of length 3'));
    await expect(predict(new Sequential([new Linear({ inFeatures: 1, outFeatures: 1 })]), ids.x)).rejects.toThrow(new RangeError('Expected float features [N, T, F] in a Tensor (the model does not start with an Embedding) for x but received ids'));
    await expect(predict(m, null as never)).rejects.toThrow(new TypeError('Expected a Tensor [N, T, F] or an IntTensor [N, T] for x but received null'));
  });
});
