/**
 * ONNX LSTM/GRU nodes on the native core: the direction-level dispatch (gate blocks permuted to
 * PyTorch's order) against the TypeScript kernel, and whole nodes of PyTorch's cell against the
 * generic path (the same node with clip = 1e30) and onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import { decodeOnnx } from '../src/onnx/index.js';
import { gruGenericDirection, lstmGenericDirection, type GatedDirectionArgs } from '../src/onnx/gated_generic.js';
import { inverseOrder, nativeCapableGated, nativeGatedBidirectional, nativeGatedDirection, ONNX_BLOCK_OF_TORCH, permuteGateBlocks } from '../src/onnx/gated_native.js';
import { attribute, maxAbsDiff, ortRun, randn } from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';
import { gatedFeeds, gatedNodeModel, randomGatedWeights } from './onnx_gated_helpers.js';

const TOL = 1e-5;
const SIG = { name: 'Sigmoid', alpha: 0, beta: 0 } as const;
const TANH = { name: 'Tanh', alpha: 0, beta: 0 } as const;

function directionArgs(op: 'LSTM' | 'GRU', seed: number, o: { reverse?: boolean; lengths?: number[]; states?: boolean; bias?: boolean; p?: 'zero' | 'random' }): GatedDirectionArgs {
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
    linearBeforeReset: true,
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

  it('falls back to TypeScript for non-zero peepholes, length-0 sequences and empty dims', () => {
    expect(nativeCapableGated(directionArgs('LSTM', 1, { p: 'zero' }))).toBe(true);
    expect(nativeCapableGated(directionArgs('LSTM', 1, { p: 'random' }))).toBe(false);
    expect(nativeCapableGated(directionArgs('GRU', 1, { lengths: [7, 0, 2] }))).toBe(false);
    expect(nativeGatedDirection('LSTM', directionArgs('LSTM', 1, { p: 'random' }))).toBeNull();
    expect(nativeCapableGated({ ...directionArgs('GRU', 1, {}), T: 0, x: new Float32Array(0) })).toBe(false);
  });

  for (const op of ['LSTM', 'GRU'] as const) {
    it(`${op}: native equals the TypeScript kernel (forward, reverse, lengths, states, no bias, zero peepholes)`, async () => {
      let seed = 10;
      for (const o of [{}, { reverse: true }, { lengths: [7, 2, 5], states: true }, { reverse: true, lengths: [3, 7, 1], states: true }, { bias: false, states: true }, { p: 'zero' as const, reverse: true }]) {
        const a = directionArgs(op, seed++, o);
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
  for (const op of ['LSTM', 'GRU'] as const) {
    it(`${op}: equals the two directions in TypeScript (lengths, states, no bias)`, async () => {
      let seed = 70;
      for (const o of [{}, { lengths: [7, 2, 5], states: true }, { bias: false, lengths: [1, 7, 3] }]) {
        const f = directionArgs(op, seed, o);
        const other = directionArgs(op, seed + 1, o);
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
  for (const op of ['LSTM', 'GRU'] as const) {
    it(`${op}: native node = generic node (clip 1e30) = onnxruntime, every direction, layouts 0 and 1`, async () => {
      let seed = 40;
      for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
        for (const layout of [0, 1] as const) {
          const D = direction === 'bidirectional' ? 2 : 1;
          const rng = makeRng(seed++);
          const weights = randomGatedWeights(rng, op, D, H, I);
          if (op === 'LSTM') weights.P = new Float32Array(D * 3 * H); // all-zero peepholes still run natively
          const attrs = [attribute('hidden_size', H), attribute('direction', direction)];
          if (op === 'GRU') attrs.push(attribute('linear_before_reset', 1));
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
