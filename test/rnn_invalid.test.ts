// Invalid parameters: one bad input per test, asserting the error class and
// message; a failed call leaves the module as it was.
import { describe, expect, it } from 'vitest';
import { RNN, tensor, type Tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';

const x3 = (T: number, B: number, I: number): Tensor => tensor(new Float32Array(T * B * I).fill(0.5), [T, B, I]);
const make = () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 });

describe('RNN constructor: invalid parameters', () => {
  it('missing options', () => expect(() => new RNN(undefined as never)).toThrow(TypeError));
  it('inputSize NaN', () => expect(() => new RNN({ inputSize: NaN, hiddenSize: 2 })).toThrow(/Expected an integer in 1\.\.\d+ for inputSize but received NaN/));
  it('hiddenSize negative', () => expect(() => new RNN({ inputSize: 2, hiddenSize: -3 })).toThrow(RangeError));
  it('hiddenSize fractional', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2.5 })).toThrow(/hiddenSize but received 2.5/));
  it('hiddenSize a string', () => expect(() => new RNN({ inputSize: 2, hiddenSize: '4' as never })).toThrow(TypeError));
  it('huge hiddenSize', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2 ** 40 })).toThrow(RangeError));
  it('numLayers 0', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2, numLayers: 0 })).toThrow(/numLayers/));
  it('unknown nonlinearity', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2, nonlinearity: 'gelu' as never })).toThrow(/one of 'tanh', 'relu' for nonlinearity/));
  it('dropout 1', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2, dropout: 1 })).toThrow(/dropout/));
  it('unknown option', () => expect(() => new RNN({ inputSize: 2, hiddenSize: 2, hidden_size: 3 } as never)).toThrow(/unknown option 'hidden_size'/));
});

describe('RNN.forward: invalid parameters', () => {
  it('wrong data length', () => {
    const bad = { data: new Float32Array(5), shape: [2, 1, 3] };
    expect(() => make().forward(bad)).toThrow(/Expected 6 elements for shape \[2, 1, 3\] for x.data but received 5 elements/);
  });
  it('wrong input width', () => expect(() => make().forward(x3(2, 1, 5))).toThrow(/Expected shape \[\*, \*, 3\]/));
  it('wrong rank', () => expect(() => make().forward(tensor(new Float32Array(6), [2, 3]))).toThrow(RangeError));
  it('a Float64Array', () => expect(() => make().forward({ data: new Float64Array(6) as never, shape: [2, 1, 3] })).toThrow(/Expected a Float32Array for x.data/));
  it('a plain array', () => expect(() => make().forward({ data: [1, 2, 3] as never, shape: [1, 1, 3] })).toThrow(TypeError));
  it('zero-length sequence', () => expect(() => make().forward({ data: new Float32Array(0), shape: [0, 1, 3] })).toThrow(/T >= 1/));
  it('h0 of the wrong shape', () => {
    expect(() => make().forward(x3(2, 1, 3), { h0: tensor(new Float32Array(8), [2, 1, 4]) })).toThrow(/shape \[4, 1, 4\] \(numLayers\*numDirections = 4.*for h0.shape but received \[2, 1, 4\]/);
  });
  it('seqLengths containing 0', () => expect(() => make().forward(x3(3, 2, 3), { seqLengths: [0, 3] })).toThrow(/seqLengths\[0\] but received 0/));
  it('seqLengths greater than T', () => expect(() => make().forward(x3(3, 2, 3), { seqLengths: [4, 3] })).toThrow(/an integer in 1\.\.3 \(T\)/));
  it('seqLengths of the wrong count', () => expect(() => make().forward(x3(3, 2, 3), { seqLengths: [3] })).toThrow(/2 entries/));
  it('seqLengths fractional', () => expect(() => make().forward(x3(3, 2, 3), { seqLengths: [1.5, 3] })).toThrow(RangeError));
  it('unknown option', () => expect(() => make().forward(x3(3, 2, 3), { lengths: [3, 3] } as never)).toThrow(/unknown option 'lengths'/));
  it('options not an object', () => expect(() => make().forward(x3(3, 2, 3), 5 as never)).toThrow(TypeError));
});

describe('RNN.backward and loadStateDict: invalid parameters', () => {
  it('backward before forward', () => expect(() => make().backward()).toThrow(/before forward/));
  it('backward twice for one forward', () => {
    const rnn = make();
    rnn.forward(x3(2, 1, 3));
    rnn.backward();
    expect(() => rnn.backward()).toThrow(/before forward \(or twice/);
  });
  it('gy of the wrong shape leaves gradients untouched', () => {
    const rnn = make();
    rnn.forward(x3(2, 1, 3));
    expect(() => rnn.backward({ gy: tensor(new Float32Array(8), [2, 1, 4]) })).toThrow(/gy.shape/);
    expect(rnn.parameters().every((p) => p.grad.every((v) => v === 0))).toBe(true);
    rnn.backward(); // the tape is still there
  });
  it('ghN of the wrong shape', () => {
    const rnn = make();
    rnn.forward(x3(2, 1, 3));
    expect(() => rnn.backward({ ghN: tensor(new Float32Array(4), [1, 1, 4]) })).toThrow(/ghN.shape/);
  });
  const sd = (): Record<string, Tensor> => Object.fromEntries(Object.entries(make().stateDict()).map(([k, v]) => [k, { data: v.data.slice(), shape: v.shape }]));
  it('loadStateDict with a missing key', () => {
    const s = sd();
    delete s.weight_hh_l1_reverse;
    const rnn = make();
    const before = rnn.parameters().map((p) => p.data.slice());
    expect(() => rnn.loadStateDict(s)).toThrow(/missing keys: weight_hh_l1_reverse/);
    rnn.parameters().forEach((p, i) => expect(p.data).toEqual(before[i]));
  });
  it('loadStateDict with an extra key', () => {
    const s = { ...sd(), weight_ih_l2: tensor([1], [1]) };
    expect(() => make().loadStateDict(s)).toThrow(/unexpected keys: weight_ih_l2/);
  });
  it('loadStateDict with a mis-shaped key changes nothing', () => {
    const s = sd();
    s.bias_hh_l1 = tensor([1, 2, 3], [3]);
    s.weight_ih_l0 = { data: new Float32Array(12).fill(7), shape: [4, 3] };
    const rnn = make();
    const before = rnn.parameters().map((p) => p.data.slice());
    expect(() => rnn.loadStateDict(s)).toThrow(/bias_hh_l1.shape/);
    rnn.parameters().forEach((p, i) => expect(p.data).toEqual(before[i]));
  });
  it('async call while one is running is refused', async () => {
    const rnn = make();
    const p = rnn.forwardAsync(x3(5, 2, 3));
    expect(() => rnn.forward(x3(5, 2, 3))).toThrow(/busy/);
    await p;
    rnn.forward(x3(5, 2, 3));
  });
});

describe('binding: re-checks sizes itself', () => {
  const ok = () => ({
    x: new Float32Array(6), h0: null, wIh: new Float32Array(12), wHh: new Float32Array(16), bIh: null, bHh: null,
    lengths: null as Int32Array | null, y: new Float32Array(8), hN: new Float32Array(4),
    T: 2, B: 1, I: 3, H: 4, ld: 4, act: 0 as const, reverse: false,
  });
  const backwardOk = () => ({
    dx: null, dh0: null, dwIh: new Float32Array(12), dwHh: new Float32Array(16), dbIh: null, dbHh: null,
    work: new Float32Array(3), y: new Float32Array(8), h0: null, dy: null, dhN: null,
    x: new Float32Array(6), wIh: new Float32Array(12), wHh: new Float32Array(16), lengths: null,
    T: 2, B: 1, I: 3, H: 4, ld: 4, act: 0 as const, reverse: false,
  });
  it('x too short', () => {
    const a = ok();
    expect(() => native.forwardLayer([{ ...a, x: a.x.subarray(1) }])).toThrow(/x has 5 elements, expected 6/);
  });
  it('y too short for its stride', () => {
    expect(() => native.forwardLayer([{ ...ok(), ld: 8 }])).toThrow(RangeError);
  });
  it('non-integer size', () => {
    expect(() => native.forwardLayer([{ ...ok(), T: 2.5 }])).toThrow(/integer/);
  });
  it('size beyond int32', () => {
    expect(() => native.forwardLayer([{ ...ok(), T: 2 ** 31, B: 2 ** 31 }])).toThrow(RangeError);
  });
  it('wrong typed array kind', () => {
    expect(() => native.forwardLayer([{ ...ok(), x: new Float64Array(6) as never }])).toThrow(TypeError);
  });
  it('lengths out of range', () => {
    expect(() => native.forwardLayer([{ ...ok(), lengths: new Int32Array([3]) }])).toThrow(/lengths\[0\] is 3/);
  });
  it('output aliasing an input', () => {
    const shared = new Float32Array(16);
    expect(() => native.forwardLayer([{ ...ok(), wHh: shared, y: shared.subarray(0, 8) }])).toThrow(/shares memory/);
  });
  it('workspace too small', () => {
    expect(() => native.backwardLayer([backwardOk()])).toThrow(/work has 3 elements, expected at least/);
  });
  it('a missing field', () => {
    const { x: _x, ...rest } = ok();
    expect(() => native.forwardLayer([rest as never])).toThrow(/forwardLayer\[0\]\.x/);
  });
  it('wrong direction count', () => {
    expect(() => native.forwardLayer([ok(), ok(), ok()])).toThrow(/1 or 2 directions/);
    expect(() => (native.forwardLayer as (...a: unknown[]) => void)(1, 2)).toThrow(/array of one or two/);
  });
  it('two directions writing the same columns', () => {
    const a = ok();
    expect(() => native.forwardLayer([a, { ...a, hN: new Float32Array(4), reverse: true }])).toThrow(/overlap/);
  });
  it('a getter cannot change an argument after it is read', () => {
    const a = ok();
    let reads = 0;
    const tricky = { ...a, get T() { reads++; return 2; } };
    native.forwardLayer([tricky]);
    expect(reads).toBe(1);
  });
});

describe('non-finite values', () => {
  it('propagate by default (as in PyTorch)', () => {
    const x = x3(2, 1, 3);
    x.data[4] = NaN;
    const { y } = make().forward(x);
    expect(y.data.some((v) => Number.isNaN(v))).toBe(true);
  });
  it('checkFinite: a NaN input is a RangeError naming the index', () => {
    const x = x3(2, 1, 3);
    x.data[4] = NaN;
    expect(() => make().forward(x, { checkFinite: true })).toThrow(/Expected finite values for x.data but received NaN at index 4/);
  });
  it('checkFinite: an infinite weight is named', () => {
    const rnn = make();
    rnn.stateDict().weight_hh_l1_reverse.data[2] = Infinity;
    expect(() => rnn.forward(x3(2, 1, 3), { checkFinite: true })).toThrow(/weight_hh_l1_reverse but received Infinity at index 2/);
  });
});

describe('impossible sizes are RangeErrors, not allocation failures', () => {
  it('a model with more than 2^31 parameters', () => {
    expect(() => new RNN({ inputSize: 1 << 20, hiddenSize: 1 << 20 })).toThrow(/at most 2147483647 parameters in total/);
  });
  it('an output larger than a buffer can hold', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 << 14, seed: 1 });
    // x itself is small enough to build (2^18 floats); the output would be 2^32.
    const x = { data: new Float32Array(1 << 18), shape: [1 << 9, 1 << 9, 1] };
    expect(() => rnn.forward(x)).toThrow(/the output's size/);
  });
});
