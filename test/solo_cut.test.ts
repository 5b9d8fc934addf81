// Which layer calls go to the thread team at 2 threads (native/rnn_layer.cpp small_work): a
// call of at least 2^26 multiply-adds always; below it, only a call whose every step product
// reaches the step cut (2^19) and whose whole work reaches 2^23. Counted with teamStats (a job
// split over tasks counts, one run on one task does not); the input GEMMs here are below
// team_gemm's own cut, so every counted job is the time loop's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blasInfo, getNumThreads, setNumThreads } from '../src/index.js';
import { native, NativeActivation } from '../src/native/binding.js';

function teamJobsOfForward(T: number, B: number, H: number): number {
  const I = 1;
  const f = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
  const call = {
    x: f(T * B * I), h0: null, wIh: f(H * I), wHh: f(H * H), bIh: f(H), bHh: f(H), lengths: null,
    y: new Float32Array(T * B * H), hN: new Float32Array(B * H), T, B, I, H, ld: H, act: NativeActivation.Tanh, reverse: false,
  };
  const before = native.teamStats().jobs;
  native.forwardLayer([call]);
  return native.teamStats().jobs - before;
}

describe.skipIf(blasInfo().availableCpus < 2)('layer calls on the thread team at 2 threads', () => {
  const threads = getNumThreads();
  beforeAll(() => {
    setNumThreads(2);
    native.setSoloThresholds(2 ** 26, 2 ** 19);
  });
  afterAll(() => void setNumThreads(threads));

  it('a call of large steps splits below the call cut (T=16, B=32, H=256: 34M multiply-adds)', () => {
    expect(teamJobsOfForward(16, 32, 256)).toBeGreaterThan(0);
  });

  it('a call of large steps below 2^23 stays on one thread (T=2, B=32, H=256)', () => {
    expect(teamJobsOfForward(2, 32, 256)).toBe(0);
  });

  it('a call of small steps below the call cut stays on one thread (F1-like: T=100, B=32, H=64)', () => {
    expect(teamJobsOfForward(100, 32, 64)).toBe(0);
  });

  it('a call above the call cut splits whatever its steps (T=2000, B=32, H=64)', () => {
    expect(teamJobsOfForward(2000, 32, 64)).toBeGreaterThan(0);
  });
});
