// The GRU with the reset gate before the recurrent product (`new GRU({ resetAfter: false })`,
// Keras reset_after=False, ONNX linear_before_reset=0): its option and configuration, repr,
// spec and model files.
import { describe, expect, it } from 'vitest';
import {
  buildModel, decodeModel, encodeModel, GRU, LSTM, modelSpec, RNN, rnnConfig, Sequential, LastStep, Linear,
} from '../src/index.js';
import { moduleFromSpec, specParameterShapes } from '../src/io/registry.js';

describe('GRU resetAfter: option, configuration, repr, spec', () => {
  it('defaults to true (PyTorch\'s cell), always present in a GRU configuration, absent elsewhere', () => {
    expect(rnnConfig({ inputSize: 2, hiddenSize: 3 }, 'GRU').resetAfter).toBe(true);
    expect(rnnConfig({ inputSize: 2, hiddenSize: 3, resetAfter: false }, 'GRU').resetAfter).toBe(false);
    expect(new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false, seed: 1 }).config.resetAfter).toBe(false);
    expect(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }).config.resetAfter).toBe(true);
    expect('resetAfter' in rnnConfig({ inputSize: 2, hiddenSize: 3 }, 'LSTM')).toBe(false);
    expect('resetAfter' in rnnConfig({ inputSize: 2, hiddenSize: 3 })).toBe(false);
    // A configuration (less its nonlinearity) spreads back into options.
    const { nonlinearity: _tanh, ...cfg } = rnnConfig({ inputSize: 2, hiddenSize: 3, resetAfter: false }, 'GRU');
    expect(new GRU({ ...cfg, seed: 1 }).config.resetAfter).toBe(false);
  });

  it('is refused for an RNN or LSTM (RangeError naming options.resetAfter) and must be a boolean', () => {
    for (const v of [true, false]) {
      expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, resetAfter: v })).toThrow(RangeError);
      expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, resetAfter: v })).toThrow(/options\.resetAfter.*LSTM/);
      expect(() => new RNN({ inputSize: 2, hiddenSize: 3, resetAfter: v } as never)).toThrow(RangeError);
      expect(() => new RNN({ inputSize: 2, hiddenSize: 3, resetAfter: v } as never)).toThrow(/options\.resetAfter.*RNN/);
    }
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: 0 as never })).toThrow(TypeError);
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: 'false' as never })).toThrow(/resetAfter/);
  });

  it('the repr says reset_after=False only when false', () => {
    expect(new GRU({ inputSize: 3, hiddenSize: 5, seed: 1 }).toString()).toBe('GRU(3, 5)');
    expect(new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: true, seed: 1 }).toString()).toBe('GRU(3, 5)');
    expect(new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false, seed: 1 }).toString())
      .toBe('GRU(3, 5, num_layers=2, bidirectional=True, reset_after=False)');
  });

  it('the same parameter names and shapes as PyTorch\'s GRU', () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false, seed: 1 });
    const b = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 1 });
    expect(a.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(b.namedParameters().map(([n, p]) => [n, p.shape]));
    // Same seed, same draw: only the cell differs.
    expect(a.stateDict()).toEqual(b.stateDict());
  });

  it('the spec records resetAfter: false; PyTorch\'s cell leaves it out; a spec without it builds resetAfter true', () => {
    const before = new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: false, seed: 1 });
    expect(before.toSpec()).toEqual({
      type: 'GRU', config: { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, bidirectional: false, dropout: 0, resetAfter: false },
    });
    const after = new GRU({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const afterConfig = after.toSpec().config as Record<string, unknown>;
    expect(after.toSpec()).toEqual({
      type: 'GRU', config: { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, bidirectional: false, dropout: 0 },
    });
    expect((moduleFromSpec(before.toSpec()) as GRU).config.resetAfter).toBe(false);
    expect((moduleFromSpec(after.toSpec()) as GRU).config.resetAfter).toBe(true);
    expect((moduleFromSpec({ ...after.toSpec(), config: { ...afterConfig, resetAfter: true } }) as GRU).config.resetAfter).toBe(true);
    expect(specParameterShapes(before.toSpec())).toEqual(specParameterShapes(after.toSpec()));
    // A bad value in a spec is named.
    expect(() => moduleFromSpec({ type: 'GRU', config: { ...afterConfig, resetAfter: 1 } })).toThrow(/resetAfter/);
    expect(() => moduleFromSpec({ type: 'LSTM', config: { inputSize: 3, hiddenSize: 5, resetAfter: false } })).toThrow(/resetAfter/);
  });

  it('model bytes round trip as a reset-before GRU, bare and in a Sequential (weights bit-identical)', () => {
    const bare = new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, resetAfter: false, seed: 5 });
    const back = decodeModel(encodeModel(bare), 'bytes', { expect: GRU }).model;
    expect(back.config.resetAfter).toBe(false);
    expect(back.toString()).toBe(bare.toString());
    expect(back.stateDict()).toEqual(bare.stateDict());
    const head = new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, resetAfter: false, seed: 6 }), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 1, seed: 7 })]);
    const rebuilt = buildModel(modelSpec(head)) as Sequential;
    expect((rebuilt.layers[0] as GRU).config.resetAfter).toBe(false);
    const loaded = decodeModel(encodeModel(head), 'bytes', { expect: Sequential }).model;
    expect((loaded.layers[0] as GRU).config.resetAfter).toBe(false);
    expect(loaded.toString()).toContain('reset_after=False');
  });
});
