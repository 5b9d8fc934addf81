/**
 * Character-level sampling: a model trained on a cyclic text reproduces it
 * greedily; draws are seeded; top-k and temperature behave; one-hot models work.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import { charDataset, charVocab, type CharVocab } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam } from '../src/optim/index.js';
import { fit, sample } from '../src/train/index.js';

beforeAll(() => setNumThreads(1));

const TEXT = 'abcde'.repeat(40);
let vocab: CharVocab;
let model: Sequential;

beforeAll(async () => {
  vocab = charVocab(TEXT);
  model = new Sequential([
    new Embedding({ numEmbeddings: vocab.size, embeddingDim: 8, seed: 1 }),
    new RNN({ inputSize: 8, hiddenSize: 16, seed: 2 }),
    new Linear({ inFeatures: 16, outFeatures: vocab.size, seed: 3 }),
  ]);
  await fit(model, charDataset(TEXT, vocab, { seqLen: 10, stride: 3 }), { epochs: 15, batchSize: 16, loss: 'crossEntropy', optimizer: new Adam(model.parameters(), { lr: 0.02 }), seed: 1 });
});

describe('sample', () => {
  it('continues the learned text greedily, and top-1 is greedy', () => {
    expect(sample(model, vocab, { prime: 'ab', length: 12, temperature: 0 })).toBe('cdeabcdeabcd');
    expect(sample(model, vocab, { prime: 'e', length: 6, topK: 1, seed: 3 })).toBe('abcdea');
    expect(sample(model, vocab, { prime: 'c', length: 0 })).toBe('');
  });

  it('is deterministic for a seed, restores the mode, and draws only vocabulary characters', () => {
    model.train();
    const a = sample(model, vocab, { prime: 'a', length: 40, temperature: 3, seed: 7 });
    expect(model.training).toBe(true);
    expect(sample(model, vocab, { prime: 'a', length: 40, temperature: 3, seed: 7 })).toBe(a);
    expect(a).toHaveLength(40);
    expect([...a].every((ch) => vocab.idOf(ch) >= 0)).toBe(true);
    // At a high temperature the draws leave the learned cycle.
    expect(a).not.toBe('bcdea'.repeat(8));
    expect(sample(model, vocab, { prime: 'a', length: 40, temperature: 3, seed: 8 })).not.toBe(a);
  });

  it('feeds one-hot vectors to a model without Embedding', () => {
    const v = charVocab('xyz');
    const m = new Sequential([new RNN({ inputSize: 3, hiddenSize: 4, seed: 1 }), new Linear({ inFeatures: 4, outFeatures: 3, seed: 2 })]);
    const s = sample(m, v, { prime: 'xy', length: 5, seed: 1 });
    expect(s).toHaveLength(5);
    expect([...s].every((ch) => 'xyz'.includes(ch))).toBe(true);
  });

  it('refuses invalid arguments', () => {
    expect(() => sample(model, vocab, { prime: '', length: 3 })).toThrow(new RangeError('Expected at least one character (the model needs an input to start from) for options.prime but received ""'));
    expect(() => sample(model, vocab, { prime: 'a', length: -1 })).toThrow(new RangeError('Expected an integer in 0..2147483647 for options.length but received -1'));
    expect(() => sample(model, vocab, { prime: 'a', length: 1, temperature: -1 })).toThrow(new RangeError('Expected a number in [0, Infinity] for options.temperature but received -1'));
    expect(() => sample(model, vocab, { prime: 'a', length: 1, topK: 6 })).toThrow(new RangeError('Expected an integer in 1..5 for options.topK but received 6'));
    expect(() => sample(model, vocab, { prime: 'q', length: 1 })).toThrow(new RangeError('Expected a character of the vocabulary for text[0] but received "q" at position 0'));
    expect(() => sample(model, vocab, { prime: 'a', length: 1, temp: 1 } as never)).toThrow(RangeError);
    expect(() => sample({} as never, vocab, { prime: 'a', length: 1 })).toThrow(new TypeError('Expected a Sequential (e.g. Embedding → RNN → Linear) for model but received an object (Object)'));
    expect(() => sample(model, charVocab('ab'), { prime: 'a', length: 1 })).toThrow(new RangeError('Expected logits [T, 1, 2] (one per vocabulary character) for model output but received shape [1, 1, 5]'));
    const bi = new Sequential([new RNN({ inputSize: 5, hiddenSize: 2, bidirectional: true }), new Linear({ inFeatures: 4, outFeatures: 5 })]);
    expect(() => sample(bi, vocab, { prime: 'a', length: 1 })).toThrow(/unidirectional recurrent layers/);
  });
});
