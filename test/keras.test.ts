/**
 * Tests for src/interop/keras.ts: PyTorch-named RNN state dicts <-> Keras SimpleRNN weights.
 *
 * Besides the hand-built transposes, the conversions are checked semantically: a PyTorch-style
 * Elman forward pass with the state dict must equal a Keras-style forward pass
 * (x·kernel + h·recurrent_kernel + bias, Bidirectional = forward layer + go_backwards layer
 * re-reversed, concatenated) with the converted weights.
 */
import { describe, expect, it } from 'vitest';
import {
  type KerasConversionConfig,
  type KerasRnnLayerWeights,
  fromKerasWeightList,
  fromKerasWeights,
  toKerasWeightList,
  toKerasWeights,
} from '../src/interop/keras.js';
import { type Tensor, tensor } from '../src/tensor.js';

/** Deterministic pseudo-random numbers in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function randomTensor(shape: number[], next: () => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, next), shape);
}

/** A random PyTorch nn.RNN state dict, in PyTorch's key order. */
function randomStateDict(I: number, H: number, cfg: KerasConversionConfig, seed = 1): Record<string, Tensor> {
  const next = rng(seed);
  const D = cfg.bidirectional ? 2 : 1;
  const sd: Record<string, Tensor> = {};
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const s = `_l${k}${d ? '_reverse' : ''}`;
      sd[`weight_ih${s}`] = randomTensor([H, k === 0 ? I : H * D], next);
      sd[`weight_hh${s}`] = randomTensor([H, H], next);
      if (cfg.bias) {
        sd[`bias_ih${s}`] = randomTensor([H], next);
        sd[`bias_hh${s}`] = randomTensor([H], next);
      }
    }
  }
  return sd;
}

type Seq = number[][]; // [time][features]

/** One direction of a PyTorch Elman layer: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). */
function torchDirection(xs: Seq, sd: Record<string, Tensor>, s: string, H: number, reverse: boolean): Seq {
  const wih = sd[`weight_ih${s}`];
  const whh = sd[`weight_hh${s}`];
  const I = wih.shape[1];
  const out: Seq = new Array(xs.length);
  let h = new Array(H).fill(0);
  for (let step = 0; step < xs.length; step++) {
    const t = reverse ? xs.length - 1 - step : step;
    const next = new Array(H);
    for (let j = 0; j < H; j++) {
      let a = (sd[`bias_ih${s}`]?.data[j] ?? 0) + (sd[`bias_hh${s}`]?.data[j] ?? 0);
      for (let i = 0; i < I; i++) a += wih.data[j * I + i] * xs[t][i];
      for (let i = 0; i < H; i++) a += whh.data[j * H + i] * h[i];
      next[j] = Math.tanh(a);
    }
    h = next;
    out[t] = h;
  }
  return out;
}

function torchForward(xs: Seq, sd: Record<string, Tensor>, cfg: KerasConversionConfig, H: number): Seq {
  let seq = xs;
  for (let k = 0; k < cfg.numLayers; k++) {
    const fwd = torchDirection(seq, sd, `_l${k}`, H, false);
    const bwd = cfg.bidirectional ? torchDirection(seq, sd, `_l${k}_reverse`, H, true) : undefined;
    seq = fwd.map((f, t) => (bwd ? [...f, ...bwd[t]] : f));
  }
  return seq;
}

/** A Keras SimpleRNN over a sequence: h_t = tanh(x_t · kernel + h_{t-1} · recurrent_kernel + bias). */
function kerasSimpleRnn(xs: Seq, cell: KerasRnnLayerWeights['forward'], goBackwards: boolean): Seq {
  const [I, H] = cell.kernel.shape;
  const order = goBackwards ? [...xs].reverse() : xs;
  let h = new Array(H).fill(0);
  const out: Seq = [];
  for (const x of order) {
    const next = new Array(H);
    for (let j = 0; j < H; j++) {
      let a = cell.bias ? cell.bias.data[j] : 0;
      for (let i = 0; i < I; i++) a += x[i] * cell.kernel.data[i * H + j];
      for (let i = 0; i < H; i++) a += h[i] * cell.recurrentKernel.data[i * H + j];
      next[j] = Math.tanh(a);
    }
    h = next;
    out.push(h);
  }
  return out;
}

function kerasForward(xs: Seq, layers: KerasRnnLayerWeights[]): Seq {
  let seq = xs;
  for (const layer of layers) {
    const fwd = kerasSimpleRnn(seq, layer.forward, false);
    // Bidirectional reverses the backward layer's sequence output back into time order.
    const bwd = layer.backward ? kerasSimpleRnn(seq, layer.backward, true).reverse() : undefined;
    seq = fwd.map((f, t) => (bwd ? [...f, ...bwd[t]] : f));
  }
  return seq;
}

const CONFIGS: KerasConversionConfig[] = [];
for (const numLayers of [1, 2]) {
  for (const bidirectional of [false, true]) {
    for (const bias of [true, false]) CONFIGS.push({ numLayers, bidirectional, bias });
  }
}
const label = (c: KerasConversionConfig) =>
  `${c.numLayers} layer(s), ${c.bidirectional ? 'bidirectional' : 'unidirectional'}, ${c.bias ? 'bias' : 'no bias'}`;

describe('hand-built 2x3 example', () => {
  // PyTorch: W_ih [H=2, I=3], W_hh [2, 2], b_ih, b_hh [2]
  const sd = {
    weight_ih_l0: tensor([1, 2, 3, 4, 5, 6], [2, 3]),
    weight_hh_l0: tensor([7, 8, 9, 10], [2, 2]),
    bias_ih_l0: tensor([0.5, -1], [2]),
    bias_hh_l0: tensor([0.25, 2], [2]),
  };
  const cfg = { numLayers: 1, bidirectional: false, bias: true };

  it('transposes the kernels and folds the biases', () => {
    const [layer] = toKerasWeights(sd, cfg);
    expect(layer.backward).toBeUndefined();
    expect(layer.forward.kernel.shape).toEqual([3, 2]);
    expect(Array.from(layer.forward.kernel.data)).toEqual([1, 4, 2, 5, 3, 6]); // [[1,4],[2,5],[3,6]]
    expect(layer.forward.recurrentKernel.shape).toEqual([2, 2]);
    expect(Array.from(layer.forward.recurrentKernel.data)).toEqual([7, 9, 8, 10]);
    expect(layer.forward.bias?.shape).toEqual([2]);
    expect(Array.from(layer.forward.bias?.data ?? [])).toEqual([0.75, 1]);
  });

  it('imports the Keras layout back, bias into bias_ih and zeros in bias_hh', () => {
    const back = fromKerasWeights(toKerasWeights(sd, cfg), cfg);
    expect(Object.keys(back)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
    expect(back.weight_ih_l0).toEqual(sd.weight_ih_l0);
    expect(back.weight_hh_l0).toEqual(sd.weight_hh_l0);
    expect(Array.from(back.bias_ih_l0.data)).toEqual([0.75, 1]);
    expect(Array.from(back.bias_hh_l0.data)).toEqual([0, 0]);
  });

  it('gives the Keras weight list [kernel, recurrent_kernel, bias]', () => {
    const list = toKerasWeightList(sd, cfg);
    expect(list.map((t) => t.shape)).toEqual([[3, 2], [2, 2], [2]]);
    expect(Array.from(list[0].data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('folds the biases in float32', () => {
    const a = 0.1;
    const b = 0.2;
    const [layer] = toKerasWeights({ ...sd, bias_ih_l0: tensor([a, 0], [2]), bias_hh_l0: tensor([b, 0], [2]) }, cfg);
    expect(layer.forward.bias?.data[0]).toBe(Math.fround(Math.fround(a) + Math.fround(b)));
  });
});

describe.each(CONFIGS)('round trips: %s', (cfg) => {
  const I = 3;
  const H = 4;
  const name = label(cfg);

  it(`PyTorch -> Keras -> PyTorch keeps weights and the bias sum (${name})`, () => {
    const sd = randomStateDict(I, H, cfg, 11);
    const layers = toKerasWeights(sd, cfg);
    expect(layers).toHaveLength(cfg.numLayers);
    layers.forEach((layer, k) => {
      expect(layer.backward !== undefined).toBe(cfg.bidirectional);
      const inK = k === 0 ? I : H * (cfg.bidirectional ? 2 : 1);
      for (const cell of layer.backward ? [layer.forward, layer.backward] : [layer.forward]) {
        expect(cell.kernel.shape).toEqual([inK, H]);
        expect(cell.recurrentKernel.shape).toEqual([H, H]);
        expect(cell.bias === undefined).toBe(!cfg.bias);
      }
    });
    const back = fromKerasWeights(layers, cfg);
    expect(Object.keys(back)).toEqual(Object.keys(sd)); // PyTorch's key order
    for (const key of Object.keys(sd)) {
      if (key.startsWith('weight_')) expect(back[key], key).toEqual(sd[key]);
    }
    if (cfg.bias) {
      for (const key of Object.keys(sd).filter((k) => k.startsWith('bias_ih'))) {
        const hh = key.replace('bias_ih', 'bias_hh');
        const sum = sd[key].data.map((v, j) => v + sd[hh].data[j]);
        expect(back[key].data).toEqual(sum);
        expect(back[hh].data).toEqual(new Float32Array(H));
      }
    }
  });

  it(`Keras -> PyTorch -> Keras is exact (${name})`, () => {
    const layers = toKerasWeights(randomStateDict(I, H, cfg, 12), cfg);
    expect(toKerasWeights(fromKerasWeights(layers, cfg), cfg)).toEqual(layers);
  });

  it(`weight list round trip and order (${name})`, () => {
    const sd = randomStateDict(I, H, cfg, 13);
    const layers = toKerasWeights(sd, cfg);
    const list = toKerasWeightList(sd, cfg);
    const expected: Tensor[] = [];
    for (const layer of layers) {
      for (const cell of layer.backward ? [layer.forward, layer.backward] : [layer.forward]) {
        expected.push(cell.kernel, cell.recurrentKernel, ...(cell.bias ? [cell.bias] : []));
      }
    }
    expect(list).toEqual(expected);
    expect(list).toHaveLength(cfg.numLayers * (cfg.bidirectional ? 2 : 1) * (cfg.bias ? 3 : 2));
    expect(fromKerasWeightList(list, cfg)).toEqual(fromKerasWeights(layers, cfg));
  });

  it(`Keras-style forward with converted weights equals the PyTorch forward (${name})`, () => {
    const sd = randomStateDict(I, H, cfg, 14);
    const next = rng(99);
    const xs: Seq = Array.from({ length: 5 }, () => Array.from({ length: I }, next));
    const want = torchForward(xs, sd, cfg, H);
    const got = kerasForward(xs, toKerasWeights(sd, cfg));
    const back = torchForward(xs, fromKerasWeights(toKerasWeights(sd, cfg), cfg), cfg, H);
    want.forEach((row, t) =>
      row.forEach((v, j) => {
        expect(got[t][j]).toBeCloseTo(v, 5);
        expect(back[t][j]).toBeCloseTo(v, 5);
      }),
    );
  });

  it(`outputs do not share buffers with inputs (${name})`, () => {
    const sd = randomStateDict(I, H, cfg, 15);
    const layers = toKerasWeights(sd, cfg);
    layers[0].forward.kernel.data.fill(0);
    layers[0].forward.bias?.data.fill(0);
    expect(sd.weight_ih_l0.data.some((v) => v !== 0)).toBe(true);
    const fresh = toKerasWeights(sd, cfg);
    const back = fromKerasWeights(fresh, cfg);
    back.weight_ih_l0.data.fill(0);
    if (cfg.bias) back.bias_ih_l0.data.fill(0);
    expect(fresh[0].forward.kernel.data.some((v) => v !== 0)).toBe(true);
    if (cfg.bias) expect(fresh[0].forward.bias?.data.some((v) => v !== 0)).toBe(true);
  });
});

describe('bidirectional layout', () => {
  it('maps _reverse weights to the backward layer and puts them after the forward ones in the list', () => {
    const cfg = { numLayers: 2, bidirectional: true, bias: true };
    const sd = randomStateDict(3, 2, cfg, 21);
    const list = toKerasWeightList(sd, cfg);
    expect(list.map((t) => t.shape)).toEqual([[3, 2], [2, 2], [2], [3, 2], [2, 2], [2], [4, 2], [2, 2], [2], [4, 2], [2, 2], [2]]);
    // list[3] is the backward kernel of layer 0 = weight_ih_l0_reverse^T
    const w = sd.weight_ih_l0_reverse; // [2, 3]
    expect(Array.from(list[3].data)).toEqual([0, 1, 2].flatMap((i) => [w.data[i], w.data[3 + i]]));
    // list[6] is layer 1's forward kernel [2H=4, H=2]: rows 0-1 read the forward output, 2-3 the backward
    const w1 = sd.weight_ih_l1; // [2, 4]
    expect(Array.from(list[6].data)).toEqual([0, 1, 2, 3].flatMap((i) => [w1.data[i], w1.data[4 + i]]));
  });
});

describe('config checks', () => {
  const sd = randomStateDict(3, 2, { numLayers: 1, bidirectional: false, bias: true });

  it('rejects bad config values', () => {
    expect(() => toKerasWeights(sd, { numLayers: 0, bidirectional: false, bias: true })).toThrow(RangeError);
    expect(() => toKerasWeights(sd, { numLayers: 0, bidirectional: false, bias: true })).toThrow(/cfg\.numLayers/);
    expect(() => toKerasWeights(sd, { numLayers: 1, bidirectional: 'no', bias: true } as unknown as KerasConversionConfig)).toThrow(TypeError);
    expect(() => toKerasWeights(sd, null as unknown as KerasConversionConfig)).toThrow(TypeError);
  });

  it('ignores extra config properties (a whole model config can be passed)', () => {
    const cfg = { numLayers: 1, bidirectional: false, bias: true, nonlinearity: 'tanh', batchFirst: true };
    expect(toKerasWeights(sd, cfg)).toHaveLength(1);
  });

  it('checks the weights against cfg.inputSize / cfg.hiddenSize when given', () => {
    expect(toKerasWeights(sd, { numLayers: 1, bidirectional: false, bias: true, inputSize: 3, hiddenSize: 2 })).toHaveLength(1);
    expect(() => toKerasWeights(sd, { numLayers: 1, bidirectional: false, bias: true, inputSize: 4 })).toThrow(
      /shape \[2, 4\] \(\[hiddenSize, inputSize\]\) for stateDict\.weight_ih_l0\.shape/,
    );
    expect(() => toKerasWeights(sd, { numLayers: 1, bidirectional: false, bias: true, hiddenSize: 5 })).toThrow(RangeError);
  });
});

describe('invalid state dicts (toKerasWeights)', () => {
  const cfg = { numLayers: 2, bidirectional: true, bias: true };
  const good = () => randomStateDict(3, 2, cfg, 31);

  it('missing parameter', () => {
    const sd = good();
    delete sd.bias_hh_l1_reverse;
    expect(() => toKerasWeights(sd, cfg)).toThrow(RangeError);
    expect(() => toKerasWeights(sd, cfg)).toThrow(/without bias_hh_l1_reverse/);
  });

  it('unexpected parameter (config mismatch)', () => {
    const sd = good();
    expect(() => toKerasWeights(sd, { ...cfg, bias: false })).toThrow(
      /only the parameters of a 2-layer bidirectional bias-free RNN.*unexpected key\(s\) bias_ih_l0, bias_hh_l0/,
    );
    expect(() => toKerasWeights(sd, { ...cfg, numLayers: 1 })).toThrow(/unexpected key\(s\) weight_ih_l1/);
  });

  it('wrong recurrent weight shape', () => {
    const sd = { ...good(), weight_hh_l0_reverse: tensor(new Float32Array(6), [2, 3]) };
    expect(() => toKerasWeights(sd, cfg)).toThrow(/Expected shape \[2, 2\] \(\[hiddenSize, hiddenSize\]\) for stateDict\.weight_hh_l0_reverse\.shape/);
  });

  it('second layer input not 2 * hiddenSize for a bidirectional RNN', () => {
    const sd = { ...good(), weight_ih_l1: tensor(new Float32Array(4), [2, 2]) };
    expect(() => toKerasWeights(sd, cfg)).toThrow(RangeError);
    expect(() => toKerasWeights(sd, cfg)).toThrow(/shape \[2, 4\] \(\[hiddenSize, hiddenSize \* 2 \(bidirectional\), the output of layer 0\]\) for stateDict\.weight_ih_l1\.shape/);
  });

  it('wrong bias shape', () => {
    const sd = { ...good(), bias_ih_l0: tensor([1, 2, 3], [3]) };
    expect(() => toKerasWeights(sd, cfg)).toThrow(/shape \[2\] \(\[hiddenSize\]\) for stateDict\.bias_ih_l0\.shape/);
  });

  it('not a tensor', () => {
    const sd = { ...good(), weight_hh_l0: [[1, 2], [3, 4]] as unknown as Tensor };
    expect(() => toKerasWeights(sd, cfg)).toThrow(TypeError);
  });
});

describe('invalid Keras weights (fromKerasWeights / fromKerasWeightList)', () => {
  const cfg = { numLayers: 2, bidirectional: true, bias: true };
  const good = () => toKerasWeights(randomStateDict(3, 2, cfg, 41), cfg);

  it('wrong number of layers', () => {
    expect(() => fromKerasWeights(good().slice(0, 1), cfg)).toThrow(/Expected 2 entries \(cfg\.numLayers\) for layers but received 1 entries/);
  });

  it('missing backward layer when bidirectional', () => {
    const layers = good();
    delete layers[1].backward;
    expect(() => fromKerasWeights(layers, cfg)).toThrow(/layers\[1\]\.backward/);
  });

  it('backward layer when unidirectional', () => {
    expect(() => fromKerasWeights(good(), { ...cfg, bidirectional: false })).toThrow(/no backward weights \(cfg\.bidirectional is false\)/);
  });

  it('missing bias when cfg.bias is true', () => {
    const layers = good();
    delete layers[0].forward.bias;
    expect(() => fromKerasWeights(layers, cfg)).toThrow(/layers\[0\]\.forward\.bias/);
  });

  it('bias present when cfg.bias is false', () => {
    expect(() => fromKerasWeights(good(), { ...cfg, bias: false })).toThrow(/use_bias=False/);
  });

  it('kernel given in PyTorch layout (not transposed)', () => {
    const layers = good();
    layers[0].backward = { ...layers[0].backward!, kernel: tensor(new Float32Array(6), [2, 3]) };
    expect(() => fromKerasWeights(layers, cfg)).toThrow(/Expected shape \[3, 2\] \(\[inputSize, hiddenSize\]\) for layers\[0\]\.backward\.kernel\.shape but received \[2, 3\]/);
  });

  it('weight list of the wrong length', () => {
    const sd = randomStateDict(3, 2, cfg, 42);
    const list = toKerasWeightList(sd, cfg);
    expect(() => fromKerasWeightList(list.slice(1), cfg)).toThrow(
      /Expected 12 tensors \(2 layer\(s\) x 2 direction\(s\) x 3 \(kernel, recurrent_kernel, bias\)\) for list but received 11 tensors/,
    );
  });

  it('weight list entry of the wrong shape names the index', () => {
    const list = toKerasWeightList(randomStateDict(3, 2, cfg, 43), cfg);
    list[7] = tensor(new Float32Array(6), [3, 2]);
    expect(() => fromKerasWeightList(list, cfg)).toThrow(/list\[7\] \(layer 1 forward recurrent_kernel\)\.shape/);
  });

  it('weight list with swapped entries', () => {
    const list = toKerasWeightList(randomStateDict(3, 2, cfg, 44), cfg);
    [list[1], list[2]] = [list[2], list[1]];
    expect(() => fromKerasWeightList(list, cfg)).toThrow(RangeError);
  });
});
