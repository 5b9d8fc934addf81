// The README's code examples, run as written (with small sizes).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Adam, charDataset, charVocab, Embedding, fit, Linear, loadModel, RNN, rnnBackward, rnnForward, sample, Sequential, tensor,
} from '../src/index.js';

describe('README examples', () => {
  it('the RNN module tour', async () => {
    const rnn = new RNN({ inputSize: 10, hiddenSize: 20, numLayers: 2, nonlinearity: 'tanh', bias: true, batchFirst: false, bidirectional: true, dropout: 0, seed: 1 });
    const x = tensor(new Float32Array(5 * 3 * 10), [5, 3, 10]);
    const { y, hN } = rnn.forward(x, { seqLengths: [5, 2, 4] });
    expect(y.shape).toEqual([5, 3, 40]);
    expect(hN.shape).toEqual([4, 3, 20]);
    const { gx, gh0 } = rnn.backward({ gy: y });
    expect(gx?.shape).toEqual([5, 3, 10]);
    expect(gh0.shape).toEqual([4, 3, 20]);
    expect(rnn.parameters()[0].name).toBe('weight_ih_l0');
    expect(Object.keys(rnn.stateDict())).toContain('bias_hh_l1_reverse');
    await rnn.forwardAsync(x);
    await rnn.backwardAsync({ gy: y });
  });

  it('the functional form', () => {
    const cfg = { inputSize: 10, hiddenSize: 20, bidirectional: true };
    const weights = new RNN({ ...cfg, seed: 2 }).stateDict();
    const x = tensor(new Float32Array(5 * 3 * 10).fill(0.1), [5, 3, 10]);
    const { y, tape } = rnnForward(cfg, weights, x);
    const grads = Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, new Float32Array(t.data.length)]));
    const { gx } = rnnBackward(tape, { gy: y }, grads);
    expect(gx?.shape).toEqual([5, 3, 10]);
    expect(grads.weight_hh_l0_reverse.some((v) => v !== 0)).toBe(true);
  });

  it('the training API and model files', async () => {
    const text = 'the cat sat on the mat. '.repeat(20);
    const vocab = charVocab(text);
    const data = charDataset(text, vocab, { seqLen: 16 });
    const model = new Sequential([
      new Embedding({ numEmbeddings: vocab.size, embeddingDim: 8, seed: 1 }),
      new RNN({ inputSize: 8, hiddenSize: 32, seed: 2 }),
      new Linear({ inFeatures: 32, outFeatures: vocab.size, seed: 3 }),
    ]);
    const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
    const { history } = await fit(model, data, { epochs: 5, batchSize: 8, loss: 'crossEntropy', optimizer, clipNorm: 5, tbptt: 8, seed: 1 });
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss);
    const out = sample(model, vocab, { prime: 'the ', length: 20, temperature: 0.8, seed: 1 });
    expect(out.length).toBe(20);
    const path = join(mkdtempSync(join(tmpdir(), 'rnnblas-readme-')), 'm.safetensors');
    await model.save(path);
    const { model: loaded } = await loadModel(path);
    expect(loaded.stateDict()).toEqual(model.stateDict());
  });
});
