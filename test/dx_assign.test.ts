// backwardLayer's dxAssign: the kernel writes dx (the first direction's input-gradient GEMM
// with beta 0, the second direction adding onto it) instead of adding into it, so callers
// need no zeroing pass. Against the accumulating call on a zeroed dx, bit for bit, with dx
// full of NaN beforehand (a read of the old contents would show); and accumulation without
// the flag still adds onto what is there. Every cell (the GRU's input gradient is two GEMMs),
// one and two directions, on one thread and on two (a bidirectional layer then runs its
// directions as a pair, the input gradients after it in order).
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../src/index.js';
import { GATED_STORE_BLOCKS, native, NativeActivation, NativeCell, type BackwardDirection } from '../src/native/binding.js';
import { makeRng } from './helpers/random.js';

const T = 20, B = 16, I = 24, H = 80;
const gates = (cell: NativeCell): number => (cell === NativeCell.Lstm ? 4 : cell === NativeCell.Elman ? 1 : 3);

// A forward with its tape, and a function running the backward into a given dx.
function layer(cell: NativeCell, D: number, seed: number): (dx: Float32Array, dxAssign: boolean | undefined) => Float32Array[] {
  const G = gates(cell);
  const rng = makeRng(seed);
  const f = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const x = f(T * B * I, 1);
  const S = T * B * GATED_STORE_BLOCKS * H;
  const y = new Float32Array(T * B * D * H);
  const store = cell === NativeCell.Elman ? null : new Float32Array(D * S);
  const cells = cell === NativeCell.Lstm ? new Float32Array(D * T * B * H) : null;
  const dirs = Array.from({ length: D }, () => ({ wIh: f(G * H * I, 0.2), wHh: f(G * H * H, 0.2), bIh: f(G * H, 0.1), bHh: f(G * H, 0.1) }));
  native.forwardLayer(dirs.map((w, d) => ({
    x, h0: null, c0: null, ...w, lengths: null, y: y.subarray(d * H), hN: new Float32Array(B * H),
    gates: store ? store.subarray(d * S, (d + 1) * S) : null, cells: cells ? cells.subarray(d * T * B * H, (d + 1) * T * B * H) : null,
    cN: cells ? new Float32Array(B * H) : null, T, B, I, H, ld: D * H, cell, act: NativeActivation.Tanh, reverse: d === 1,
  })) as never);
  const dy = f(T * B * D * H, 1);
  return (dx, dxAssign) => {
    const grads = dirs.map(() => ({ dwIh: new Float32Array(G * H * I), dwHh: new Float32Array(G * H * H), dbIh: new Float32Array(G * H), dbHh: new Float32Array(G * H) }));
    const calls: BackwardDirection[] = dirs.map((w, d) => ({
      dx, ...(dxAssign === undefined ? {} : { dxAssign }), dh0: new Float32Array(B * H), ...grads[d],
      work: new Float32Array(native.backwardWorkspaceSize(T, B, I, H, cell)), y: y.subarray(d * H),
      gates: store ? store.subarray(d * S, (d + 1) * S) : null, cells: cells ? cells.subarray(d * T * B * H, (d + 1) * T * B * H) : null,
      h0: null, c0: null, dy: dy.subarray(d * H), dhN: null, dcN: null, x, wIh: w.wIh, wHh: w.wHh, lengths: null,
      T, B, I, H, ld: D * H, cell, act: NativeActivation.Tanh, reverse: d === 1,
    }));
    native.backwardLayer(calls);
    return [dx, ...grads.flatMap((g) => [g.dwIh, g.dwHh, g.dbIh, g.dbHh])];
  };
}

function differing(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

describe('backwardLayer dxAssign', () => {
  const threads = getNumThreads();
  afterAll(() => setNumThreads(threads));
  const cells = [NativeCell.Elman, NativeCell.Lstm, NativeCell.Gru, NativeCell.GruResetBefore];
  for (const cell of cells) {
    for (const D of [1, 2]) {
      for (const n of [1, 2]) {
        it(`cell ${cell}, ${D} direction(s), ${n} thread(s): dx written, the bits of a zeroed dx accumulated`, () => {
          setNumThreads(Math.min(n, threads));
          const run = layer(cell, D, 10 * cell + D);
          const zeroed = run(new Float32Array(T * B * I), false);
          const written = run(new Float32Array(T * B * I).fill(Number.NaN), true);
          for (let k = 0; k < zeroed.length; k++) expect(differing(zeroed[k], written[k]), `output ${k}`).toBe(0);
          expect(zeroed[0].some((v) => v !== 0)).toBe(true);
          // Without the flag dx still accumulates (to rounding: the GEMM adds its partial sums onto 1).
          const added = run(new Float32Array(T * B * I).fill(1), undefined)[0];
          let worst = 0;
          for (let i = 0; i < added.length; i++) worst = Math.max(worst, Math.abs(added[i] - (1 + zeroed[0][i])) / (1 + Math.abs(zeroed[0][i])));
          expect(worst).toBeLessThan(1e-5);
        });
      }
    }
  }
  it('the two directions must agree on dxAssign', () => {
    const run = (a: boolean, b: boolean): void => {
      const x = new Float32Array(T * B * I), y = new Float32Array(T * B * 2 * H), dx = new Float32Array(T * B * I);
      const dir = (d: number, dxAssign: boolean): BackwardDirection => ({
        dx, dxAssign, dh0: null, dwIh: new Float32Array(H * I), dwHh: new Float32Array(H * H), dbIh: null, dbHh: null,
        work: new Float32Array(native.backwardWorkspaceSize(T, B, I, H, 0)), y: y.subarray(d * H), h0: null, dy: null, dhN: null,
        x, wIh: new Float32Array(H * I), wHh: new Float32Array(H * H), lengths: null, T, B, I, H, ld: 2 * H, cell: 0, act: 0, reverse: d === 1,
      });
      native.backwardLayer([dir(0, a), dir(1, b)]);
    };
    expect(() => run(true, false)).toThrow(RangeError);
    expect(() => run(true, false)).toThrow(/same dxAssign/);
    expect(() => run(true, true)).not.toThrow();
  });
  it('dxAssign must be a boolean', () => {
    const x = new Float32Array(T * B * I), y = new Float32Array(T * B * H);
    const call = {
      dx: new Float32Array(T * B * I), dxAssign: 1, dh0: null, dwIh: new Float32Array(H * I), dwHh: new Float32Array(H * H), dbIh: null, dbHh: null,
      work: new Float32Array(native.backwardWorkspaceSize(T, B, I, H, 0)), y, h0: null, dy: null, dhN: null,
      x, wIh: new Float32Array(H * I), wHh: new Float32Array(H * H), lengths: null, T, B, I, H, ld: H, cell: 0, act: 0, reverse: false,
    };
    expect(() => native.backwardLayer([call as never])).toThrow(/boolean for .*dxAssign/);
  });
});
