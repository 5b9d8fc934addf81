/**
 * ONNX LSTM/GRU nodes on the native core: the direction-level dispatch (gate blocks permuted to
 * PyTorch's order) against the TypeScript kernel, and whole nodes of PyTorch's cell (and of the
 * GRU with linear_before_reset=0, GRU({ resetAfter: false })) against the generic path (the
 * same node with clip = 1e30) and onnxruntime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { native, NativeCell } from '../src/native/binding.js';
import { decodeOnnx, decodeTensorProto, loadOnnx, type OnnxFeed } from '../src/onnx/index.js';
import { gruGenericDirection, lstmGenericDirection, type GatedDirectionArgs } from '../src/onnx/gated_generic.js';
import { nativeCellReason, type GatedAttributes } from '../src/onnx/gated_op.js';
import { inverseOrder, nativeCapableGated, nativeGatedBidirectional, nativeGatedDirection, ONNX_BLOCK_OF_TORCH, permuteGateBlocks } from '../src/onnx/gated_native.js';
import { attribute, maxAbsDiff, ortRun, randn } from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';
import { gatedFeeds, gatedNodeModel, randomGatedWeights } from './onnx_gated_helpers.js';

const TOL = 1e-5;
const SIG = { name: 'Sigmoid', alpha: 0, beta: 0 } as const;
const TANH = { name: 'Tanh', alpha: 0, beta: 0 } as const;

interface DirectionOptions { reverse?: boolean; lengths?: number[]; states?: boolean; bias?: boolean; p?: 'zero' | 'random'; lbr0?: boolean }

function directionArgs(op: 'LSTM' | 'GRU', seed: number, o: DirectionOptions): GatedDirectionArgs {
  const rng = makeRng(seed);
  const T = 7, B = 3, I = 4, H = 5;
  const G = op === 'LSTM' ? 4 : 3;
  return {
    x: randn(rng, T * B * I),
    w: randn(rng, G * H * I, 0.5),
    r: randn(rng, G * H * H, 0.5),
    wb: o.bias === false ? null : randn(rng, G * H, 0.5),
    rb: o.bias === false ? null : randn(rng, G * H, 0.5),
    p: o.p === 'zero' ? new Float32Array(3 * H) : o.p === 'random' ? randn(rng, 3 * H) : null,
    h0: o.states ? randn(rng, B * H) : null,
    c0: o.states && op === 'LSTM' ? randn(rng, B * H) : null,
    lengths: o.lengths ? Int32Array.from(o.lengths) : null,
    reverse: o.reverse ?? false,
    activations: op === 'LSTM' ? [SIG, TANH, TANH] : [SIG, TANH],
    clip: null,
    inputForget: false,
    linearBeforeReset: o.lbr0 !== true,
    T, B, I, H,
  };
}

describe('direction dispatch', () => {
  it('permutes gate blocks both ways', () => {
    const src = Float32Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(permuteGateBlocks(src, ONNX_BLOCK_OF_TORCH.LSTM, 1, 2))).toEqual([0, 1, 4, 5, 6, 7, 2, 3]);
    expect(Array.from(permuteGateBlocks(permuteGateBlocks(src, ONNX_BLOCK_OF_TORCH.LSTM, 2, 1), inverseOrder(ONNX_BLOCK_OF_TORCH.LSTM), 2, 1))).toEqual(Array.from(src));
    expect(Array.from(permuteGateBlocks(Float32Array.of(0, 1, 2), ONNX_BLOCK_OF_TORCH.GRU, 1, 1))).toEqual([1, 0, 2]);
  });

  it('both GRU cells (linear_before_reset 0 and 1) are native; clip or other activations are not', () => {
    const gru: GatedAttributes = { op: 'GRU', hiddenSize: 3, direction: 'forward', activations: [[SIG, TANH]], clip: null, layout: 0, inputForget: false, linearBeforeReset: false };
    expect(nativeCellReason(gru)).toBeNull();
    expect(nativeCellReason({ ...gru, linearBeforeReset: true })).toBeNull();
    expect(nativeCellReason({ ...gru, clip: 2 })).toBe('clip=2');
    expect(nativeCellReason({ ...gru, activations: [[SIG, SIG]] })).toMatch(/activations=\[Sigmoid, Sigmoid\]/);
  });

  it('falls back to TypeScript for non-zero peepholes, length-0 sequences and empty dims', () => {
    expect(nativeCapableGated(directionArgs('LSTM', 1, { p: 'zero' }))).toBe(true);
    expect(nativeCapableGated(directionArgs('LSTM', 1, { p: 'random' }))).toBe(false);
    expect(nativeCapableGated(directionArgs('GRU', 1, { lengths: [7, 0, 2] }))).toBe(false);
    expect(nativeGatedDirection('LSTM', directionArgs('LSTM', 1, { p: 'random' }))).toBeNull();
    expect(nativeCapableGated({ ...directionArgs('GRU', 1, {}), T: 0, x: new Float32Array(0) })).toBe(false);
  });

  for (const [op, lbr0] of [['LSTM', false], ['GRU', false], ['GRU', true]] as const) {
    it(`${op}${lbr0 ? ' linear_before_reset=0' : ''}: native equals the TypeScript kernel (forward, reverse, lengths, states, no bias, zero peepholes)`, async () => {
      let seed = 10;
      for (const o of [{}, { reverse: true }, { lengths: [7, 2, 5], states: true }, { reverse: true, lengths: [3, 7, 1], states: true }, { bias: false, states: true }, { p: 'zero' as const, reverse: true }]) {
        const a = directionArgs(op, seed++, { ...o, lbr0 });
        const native = nativeGatedDirection(op, a);
        expect(native, JSON.stringify(o)).not.toBeNull();
        const got = await native!;
        const want = op === 'LSTM' ? lstmGenericDirection(a) : gruGenericDirection(a);
        expect(maxAbsDiff(got.y, want.y), `y ${JSON.stringify(o)}`).toBeLessThan(TOL);
        expect(maxAbsDiff(got.h, want.h), `h ${JSON.stringify(o)}`).toBeLessThan(TOL);
        if (op === 'LSTM') expect(maxAbsDiff(got.c!, want.c!), `c ${JSON.stringify(o)}`).toBeLessThan(TOL);
      }
    });
  }
});

describe('both directions in one native call', () => {
  for (const [op, lbr0] of [['LSTM', false], ['GRU', false], ['GRU', true]] as const) {
    it(`${op}${lbr0 ? ' linear_before_reset=0' : ''}: equals the two directions in TypeScript (lengths, states, no bias)`, async () => {
      let seed = 70;
      for (const o of [{}, { lengths: [7, 2, 5], states: true }, { bias: false, lengths: [1, 7, 3] }]) {
        const f = directionArgs(op, seed, { ...o, lbr0 });
        const other = directionArgs(op, seed + 1, { ...o, lbr0 });
        seed += 2;
        // The same x, lengths and sizes; the reverse direction's own weights and states.
        const r = { ...other, x: f.x, lengths: f.lengths, reverse: true };
        const both = nativeGatedBidirectional(op, f, r);
        expect(both).not.toBeNull();
        const got = await both!;
        const run = op === 'LSTM' ? lstmGenericDirection : gruGenericDirection;
        const { T, B, H } = f;
        for (const [d, want] of [run(f), run(r)].entries()) {
          const y = new Float32Array(T * B * H);
          for (let i = 0; i < T * B; i++) y.set(got.y.subarray(i * 2 * H + d * H, i * 2 * H + (d + 1) * H), i * H);
          expect(maxAbsDiff(y, want.y), `y dir ${d} ${JSON.stringify(o)}`).toBeLessThan(TOL);
          expect(maxAbsDiff(got.h.subarray(d * B * H, (d + 1) * B * H), want.h), `h dir ${d}`).toBeLessThan(TOL);
          if (op === 'LSTM') expect(maxAbsDiff(got.c!.subarray(d * B * H, (d + 1) * B * H), want.c!), `c dir ${d}`).toBeLessThan(TOL);
        }
      }
    });
  }
  it('returns null when a direction must run in TypeScript', () => {
    expect(nativeGatedBidirectional('LSTM', directionArgs('LSTM', 1, {}), directionArgs('LSTM', 2, { p: 'random', reverse: true }))).toBeNull();
  });
});

describe('whole nodes of PyTorch\'s cell', () => {
  const T = 6, B = 4, I = 3, H = 5;
  const lens = [6, 2, 5, 1];
  for (const [op, lbr] of [['LSTM', null], ['GRU', 1], ['GRU', 0]] as const) {
    it(`${op}${lbr === null ? '' : ` linear_before_reset=${lbr}`}: native node = generic node (clip 1e30) = onnxruntime, every direction, layouts 0 and 1`, async () => {
      let seed = 40;
      for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
        for (const layout of [0, 1] as const) {
          const D = direction === 'bidirectional' ? 2 : 1;
          const rng = makeRng(seed++);
          const weights = randomGatedWeights(rng, op, D, H, I);
          if (op === 'LSTM') weights.P = new Float32Array(D * 3 * H); // all-zero peepholes still run natively
          const attrs = [attribute('hidden_size', H), attribute('direction', direction)];
          if (lbr !== null) attrs.push(attribute('linear_before_reset', lbr));
          if (layout === 1) attrs.push(attribute('layout', 1));
          const spec = { op, D, H, I, weights, attrs, layout, seqLens: true, initialH: true, initialC: op === 'LSTM' };
          const native = gatedNodeModel(spec);
          const generic = gatedNodeModel({ ...spec, attrs: [...attrs, attribute('clip', 1e30, 'float')] });
          const feeds = gatedFeeds(rng, { T, B, I, H, D, lens, h0: true, c0: op === 'LSTM', layout });
          const a = await decodeOnnx(native).run(feeds);
          const b = await decodeOnnx(generic).run(feeds);
          for (const k of Object.keys(b)) expect(maxAbsDiff(a[k].data, b[k].data), `${direction} layout ${layout} ${k}`).toBeLessThan(TOL);
          if (layout === 0) {
            const c = await ortRun(native, feeds);
            for (const k of Object.keys(c)) expect(maxAbsDiff(a[k].data, c[k].data), `${direction} ${k} vs onnxruntime`).toBeLessThan(TOL);
          }
        }
      }
    });
  }
});

describe('ONNX GRU cases with linear_before_reset=0 run on the native reset-before cell', () => {
  const EXTRA = fileURLToPath(new URL('./fixtures/onnx-gated-extra/', import.meta.url));
  // The official onnx 1.12 cases (all linear_before_reset=0, by default) and the generated ones
  // with the default activations and no clip.
  const names = [
    'test_gru_defaults', 'test_gru_with_initial_bias', 'test_gru_seq_length', 'test_gru_batchwise',
    'gated_gru_lbr0_forward_all_inputs', 'gated_gru_lbr0_reverse_all_inputs', 'gated_gru_lbr0_bidirectional_all_inputs',
    'gated_gru_lbr0_bidirectional_full_lengths', 'gated_gru_lbr0_no_bias', 'gated_gru_lbr0_long_odd_sizes', 'gated_gru_lbr0_tiny_t1_h1',
    'gated_gru_lbr0_layout1_forward', 'gated_gru_lbr0_layout1_bidirectional_all', 'gated_gru_lbr0_opset7', 'gated_gru_lbr_default_matches_lbr0',
  ];
  it.each(names)('%s', async (name) => {
    const base = join(EXTRA, name);
    const model = await loadOnnx(join(base, 'model.onnx'));
    const feeds: Record<string, OnnxFeed> = {};
    model.inputs.forEach((input, k) => {
      const t = decodeTensorProto(readFileSync(join(base, 'test_data_set_0', `input_${k}.pb`)));
      if (t.dtype === 'int64') throw new Error('unexpected int64 input');
      feeds[input.name] = { data: t.data, shape: t.shape };
    });
    const spy = vi.spyOn(native, 'forwardLayerAsync');
    try {
      const out = await model.run(feeds);
      expect(spy).toHaveBeenCalled();
      for (const [dirs] of spy.mock.calls) for (const d of dirs) expect(d.cell).toBe(NativeCell.GruResetBefore);
      model.outputs.forEach((o, k) => {
        const want = decodeTensorProto(readFileSync(join(base, 'test_data_set_0', `output_${k}.pb`)));
        expect(out[o.name].shape, o.name).toEqual([...want.shape]);
        expect(maxAbsDiff(out[o.name].data, want.data), o.name).toBeLessThan(TOL);
      });
    } finally {
      spy.mockRestore();
    }
  });
});
