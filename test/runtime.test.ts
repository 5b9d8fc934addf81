// The addon as a runtime: BLAS info and threads, the event loop during async
// calls, and loading in worker_threads (context-aware addon).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { blasInfo, getNumThreads, RNN, setNumThreads, tensor } from '../src/index.js';
import { addonCandidates, loadAddon, openBlasCoreFor } from '../src/native/load.js';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const cpuFlags = (): Set<string> | null => {
  const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] : undefined;
  return flags === undefined || process.arch !== 'x64' ? null : new Set(flags.trim().split(/\s+/));
};

// blasInfo() of a fresh process with this environment (OpenBLAS reads OPENBLAS_CORETYPE once, when it loads).
function childBlasInfo(env: NodeJS.ProcessEnv): { core: string; coreTypeFrom: string } {
  const code = "import { blasInfo } from './src/index.ts'; const i = blasInfo(); console.log(JSON.stringify({ core: i.core, coreTypeFrom: i.coreTypeFrom }));";
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as { core: string; coreTypeFrom: string };
}

describe('BLAS runtime', () => {
  it('blasInfo reports OpenBLAS, its core and threads', () => {
    const info = blasInfo();
    expect(info.version).toMatch(/^OpenBLAS \d+\.\d+\.\d+/);
    expect(info.core.length).toBeGreaterThan(0);
    expect(info.numProcs).toBeGreaterThanOrEqual(1);
    expect(info.numThreads).toBeGreaterThanOrEqual(1);
  });
  it('blasInfo reports the step kernel for the best instruction set the CPU has', () => {
    const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] : undefined;
    if (flags === undefined || process.arch !== 'x64') return; // not Linux x86-64: nothing to compare with
    const has = new Set(flags.trim().split(/\s+/));
    const expected = !has.has('fma') ? 'blas' : has.has('avx512f') ? 'avx512' : has.has('avx2') ? 'avx2' : 'blas';
    expect(blasInfo().stepKernel).toBe(expected);
  });
  it('OPENBLAS_CORETYPE from the CPU flags: SkylakeX with AVX-512 F/BW/DQ/VL, Haswell with AVX2 and FMA', () => {
    expect(openBlasCoreFor(new Set(['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl']))).toBe('SkylakeX');
    expect(openBlasCoreFor(new Set(['avx2', 'fma', 'avx512f']))).toBe('Haswell'); // AVX-512 without BW/DQ/VL (Knights Landing)
    expect(openBlasCoreFor(new Set(['avx2', 'fma']))).toBe('Haswell');
    expect(openBlasCoreFor(new Set(['avx', 'sse4_2']))).toBeNull();
  });
  it('an unset OPENBLAS_CORETYPE is set from the CPU before OpenBLAS loads; a set one is kept', () => {
    const flags = cpuFlags();
    if (flags === null || openBlasCoreFor(flags) === null) return; // nothing rnnblas would choose here
    const { OPENBLAS_CORETYPE: _, ...env } = process.env;
    const chosen = childBlasInfo(env);
    expect(chosen.coreTypeFrom).toBe('rnnblas');
    expect(chosen.core.toLowerCase()).toBe(openBlasCoreFor(flags)!.toLowerCase());
    const given = childBlasInfo({ ...env, OPENBLAS_CORETYPE: 'Haswell' });
    expect(given).toEqual({ core: 'Haswell', coreTypeFrom: 'environment' });
  });
  it('setNumThreads changes the thread count and rejects bad values', () => {
    const before = getNumThreads();
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    setNumThreads(before);
    expect(() => setNumThreads(0)).toThrow(RangeError);
    expect(() => setNumThreads(1.5)).toThrow(RangeError);
  });
});

describe('event loop', () => {
  it('keeps turning while an async forward/backward runs', async () => {
    const rnn = new RNN({ inputSize: 256, hiddenSize: 512, seed: 1 });
    const T = 200;
    const B = 32;
    const x = tensor(new Float32Array(T * B * 256).fill(0.01), [T, B, 256]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = Date.now();
    await rnn.forwardAsync(x);
    await rnn.backwardAsync();
    const elapsed = Date.now() - start;
    clearInterval(timer);
    // The work takes tens of milliseconds; a blocked loop would see ~0 ticks.
    expect(elapsed).toBeGreaterThan(5);
    expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 4));
  });
});

describe('worker_threads', () => {
  const addon = addonCandidates().find((p) => existsSync(p)) as string;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.addon);
    const T = 3, B = 2, I = 2, H = 3;
    const x = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i));
    const wIh = Float32Array.from({ length: H * I }, (_, i) => Math.cos(i) * 0.5);
    const wHh = Float32Array.from({ length: H * H }, (_, i) => Math.sin(i + 1) * 0.3);
    const y = new Float32Array(T * B * H), hN = new Float32Array(B * H);
    const dir = (y, hN) => ({ x, h0: null, wIh, wHh, bIh: null, bHh: null, lengths: null, y, hN, T, B, I, H, ld: H, act: 0, reverse: false });
    a.setNumThreads(1 + (workerData.index % 2));
    a.forwardLayer([dir(y, hN)]);
    a.forwardLayerAsync([dir(new Float32Array(T * B * H), new Float32Array(B * H))])
      .then(() => parentPort.postMessage(Array.from(y)));
  `;
  // Each worker sets its own thread count (1 or 2): settings are per environment.
  const run = (index: number) => new Promise<number[]>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { addon, index } });
    w.once('message', resolve);
    w.once('error', reject);
  });

  it('the addon loads and computes in several workers at once, matching the main thread', async () => {
    const before = getNumThreads();
    const results = await Promise.all([run(0), run(1), run(2)]);
    expect(getNumThreads()).toBe(before);
    // Same computation on the main thread through the public API.
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, bias: false });
    rnn.loadStateDict({
      weight_ih_l0: tensor(Array.from({ length: 6 }, (_, i) => Math.cos(i) * 0.5), [3, 2]),
      weight_hh_l0: tensor(Array.from({ length: 9 }, (_, i) => Math.sin(i + 1) * 0.3), [3, 3]),
    });
    const { y } = rnn.forward(tensor(Array.from({ length: 12 }, (_, i) => Math.sin(i)), [3, 2, 2]));
    for (const r of results) expect(Float32Array.from(r)).toEqual(y.data);
  });
});

describe('addon loader', () => {
  const withAddonEnv = (value: string | undefined, f: () => void) => {
    const before = process.env.RNNBLAS_ADDON;
    if (value === undefined) delete process.env.RNNBLAS_ADDON;
    else process.env.RNNBLAS_ADDON = value;
    try {
      f();
    } finally {
      if (before === undefined) delete process.env.RNNBLAS_ADDON;
      else process.env.RNNBLAS_ADDON = before;
    }
  };

  it('tries the local build/Release, then prebuilds/<platform>-<arch>', () => {
    withAddonEnv(undefined, () => {
      expect(addonCandidates('/pkg')).toEqual(['/pkg/build/Release/rnnblas.node', `/pkg/prebuilds/${process.platform}-${process.arch}/rnnblas.node`]);
    });
  });

  it('takes RNNBLAS_ADDON as the only candidate, and names it when it does not load (no silent fallback)', () => {
    withAddonEnv('/somewhere/custom.node', () => {
      expect(addonCandidates('/pkg')).toEqual(['/somewhere/custom.node']);
      expect(() => loadAddon()).toThrow(/RNNBLAS_ADDON.*\/somewhere\/custom\.node \(missing\)/);
    });
  });
});
