// Back-to-back tiny jobs on the thread team: a helper still leaving a finished
// job while the caller sets up the next one must never run a task of either
// by mistake (before the fix a finished job showed phase == phases, which a
// late helper could compare with the next job's phase count: after ~6,700
// jobs the team hung with a task count off by one). Each product is checked.
import { afterAll, describe, expect, it } from 'vitest';
import { blasInfo, getNumThreads, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';

describe('thread team under back-to-back jobs', () => {
  const threads = getNumThreads();
  afterAll(() => void setNumThreads(threads));
  it.skipIf(blasInfo().availableCpus < 2)('30,000 split GEMMs in a row, each exact', () => {
    setNumThreads(2);
    const M = 64, N = 128, K = 64; // M*N*K = 2^19: just large enough to be split over the team
    const A = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 13) - 6);
    const B = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 11) - 5);
    const want = new Float32Array(M * N);
    native.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, want, N);
    const C = new Float32Array(M * N);
    let bad = 0;
    for (let r = 0; r < 30000; r++) {
      native.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
      if (r % 97 === 0) for (let i = 0; i < C.length; i++) if (C[i] !== want[i]) bad++;
    }
    expect(bad).toBe(0);
  }, 120_000);

  it.skipIf(blasInfo().availableCpus < 2)('teamStats counts the split jobs and why any ran solo', () => {
    setNumThreads(2);
    const M = 64, N = 128, K = 64;
    const A = new Float32Array(M * K).fill(1), B = new Float32Array(K * N).fill(1), C = new Float32Array(M * N);
    const before = native.teamStats();
    for (let r = 0; r < 50; r++) native.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
    const after = native.teamStats();
    expect(after.jobs - before.jobs).toBe(50);
    for (const k of Object.keys(after) as (keyof typeof after)[]) {
      expect(Number.isInteger(after[k]) && after[k] >= before[k]).toBe(true);
    }
    expect(after.soloJobs - before.soloJobs).toBe(
      after.soloBenched - before.soloBenched + (after.soloBusy - before.soloBusy) + (after.soloNested - before.soloNested));
    expect(C[0]).toBe(K);
    setNumThreads(1);
    const single = native.teamStats();
    native.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
    expect(native.teamStats().jobs).toBe(single.jobs); // one task: not a team job
  });
});
