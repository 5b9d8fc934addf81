/**
 * What one time step costs at small shapes (issue 17: "per-time-step overhead at B ≤ 32, H ≤ 128
 * within 2× of the step's product"), for the Elman RNN as F1 runs it (I = 1, tanh).
 *
 *   OPENBLAS_CORETYPE=SkylakeX npx tsx bench/step_overhead.ts [--threads 2] [--reps 300] [--json]
 *
 * For each B in 1, 8, 16, 32 and H in 32, 64, 128:
 * - a time step of the native forward and of the native BPTT: the slope of the call's time between
 *   T = 50 and T = 400, so the call's fixed costs (validation, packing W_hh, the hand-off) are
 *   left out and what remains is the per-step loop: the recurrent product, bias, tanh, the stores,
 *   and each step's share of the whole-sequence GEMMs (BPTT: dW_hh, as many FLOPs as the step's
 *   product, and dW_ih);
 * - the step's product [B,H]·[H,H] alone, as fast as this machine runs it from C++ with nothing
 *   around it: the faster of cblas_sgemm and the packed step kernel, in bench/step_kernel_bench.cpp
 *   (compiled here with g++ into the temp directory; one core, W_hh packed once).
 * Each time is the fastest of `reps` (300: with 40, a host with 50% steal time put the same B=32, H=32
 * step anywhere from 1.23 to 1.92 µs), over `--rounds` rounds that alternate the JS timings with the
 * C++ one (the host is shared: the fastest run is the code's cost, and alternating keeps the
 * host's drift out of the ratio). The forward's ratio is its step over one product; the BPTT's over
 * two (its product and its share of dW_hh, which the step must pay for too).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNumThreads } from '../src/index.js';
import { native, nativeFloats, NativeActivation, NativeCell } from '../src/native/binding.js';
import { Lcg } from './common.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const threads = Number(arg('--threads', '2'));
const reps = Number(arg('--reps', '300'));
const rounds = Number(arg('--rounds', '2'));
const asJson = process.argv.includes('--json');
setNumThreads(threads);

async function fastest(fn: () => unknown, n: number): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const rng = new Lcg(7);
const filled = (n: number, lo: number, hi: number): Float32Array => {
  const a = nativeFloats(n);
  a.set(rng.floats(n, lo, hi));
  return a;
};

/** One shape's native forward and BPTT at T steps (I = 1, tanh, biases, no input gradient). */
function layerCalls(T: number, B: number, H: number) {
  const I = 1;
  const k = 1 / Math.sqrt(H);
  const wIh = filled(H * I, -k, k), wHh = filled(H * H, -k, k), bIh = filled(H, -k, k), bHh = filled(H, -k, k);
  const x = filled(T * B * I, -1, 1), y = nativeFloats(T * B * H), hN = nativeFloats(B * H);
  const dy = filled(T * B * H, -0.01, 0.01), dh0 = nativeFloats(B * H);
  const dwIh = nativeFloats(H * I), dwHh = nativeFloats(H * H), dbIh = nativeFloats(H), dbHh = nativeFloats(H);
  const work = nativeFloats(native.backwardWorkspaceSize(T, B, I, H, NativeCell.Elman));
  const common = { x, wIh, wHh, lengths: null, T, B, I, H, ld: H, act: NativeActivation.Tanh, reverse: false };
  const forward = () => native.forwardLayer([{ ...common, h0: null, bIh, bHh, y, hN }]);
  const backward = () => native.backwardLayer([{
    ...common, dx: null, dh0, trace: null, dwIh, dwHh, dbIh, dbHh, work, y, h0: null, dy, dhN: null,
  }]);
  forward();
  return { forward, backward };
}

const root = fileURLToPath(new URL('..', import.meta.url));
const kernelBench = join(tmpdir(), 'rnnblas_step_kernel_bench');

/** Compiles bench/step_kernel_bench.cpp unless the binary is newer than its sources. */
function buildKernelBench(): void {
  const sources = ['bench/step_kernel_bench.cpp', 'native/packed_gemm.cpp', 'native/packed_gemm.h'].map((f) => join(root, f));
  const built = (() => { try { return statSync(kernelBench).mtimeMs; } catch { return 0; } })();
  if (sources.every((f) => statSync(f).mtimeMs < built)) return;
  execFileSync('g++', ['-O3', '-fno-trapping-math', '-std=c++17', '-I' + join(root, 'native'), sources[0], sources[1], '-lopenblas', '-lpthread', '-o', kernelBench], { stdio: 'inherit' });
}

/** µs of each shape's product [B,H]·[H,H] (the faster of the packed kernel and cblas_sgemm), one core. */
function productMicros(shapes: Array<[number, number]>): number[] {
  const out = execFileSync(kernelBench, ['--reps', String(reps), ...shapes.flatMap(([B, H]) => ['--shape', `${B},${H},${H}`])], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
  });
  const rows = out.split('\n').filter((l) => l.startsWith('custom'));
  if (rows.length !== shapes.length) throw new Error(`step_kernel_bench printed ${rows.length} shapes, not ${shapes.length}:\n${out}`);
  return rows.map((l, i) => {
    // custom M K N thr ms/step avx512 sgemm (GFLOP/s)
    const f = l.trim().split(/\s+/);
    const gflops = Math.max(Number(f[6]), Number(f[7]));
    const [B, H] = shapes[i];
    return (2 * B * H * H) / (gflops * 1e3);
  });
}

interface Row { B: number; H: number; forwardUs: number; backwardUs: number; productUs: number; forwardRatio: number; backwardRatio: number }

buildKernelBench();
const shapes: Array<[number, number]> = [];
for (const B of [1, 8, 16, 32]) for (const H of [32, 64, 128]) shapes.push([B, H]);
const calls = shapes.map(([B, H]) => ({ short: layerCalls(50, B, H), long: layerCalls(400, B, H) }));
const best = shapes.map(() => ({ forward: Infinity, backward: Infinity, product: Infinity }));
const perStep = async (f50: () => unknown, f400: () => unknown) => ((await fastest(f400, reps)) - (await fastest(f50, reps))) / 350;
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < shapes.length; i++) {
    best[i].forward = Math.min(best[i].forward, await perStep(calls[i].short.forward, calls[i].long.forward));
    best[i].backward = Math.min(best[i].backward, await perStep(calls[i].short.backward, calls[i].long.backward));
  }
  productMicros(shapes).forEach((us, i) => { best[i].product = Math.min(best[i].product, us / 1000); });
}
const rows: Row[] = shapes.map(([B, H], i) => {
  const { forward, backward, product } = best[i];
  return {
    B, H, forwardUs: forward * 1000, backwardUs: backward * 1000, productUs: product * 1000,
    forwardRatio: forward / product, backwardRatio: backward / (2 * product),
  };
});

if (asJson) {
  console.log(JSON.stringify({ threads, rows }));
} else {
  const f = (v: number, d = 2) => v.toFixed(d);
  console.log(`Per-time-step cost, Elman tanh, I = 1, ${threads} thread(s), fastest of ${reps} in each of ${rounds} rounds:\n`);
  console.log('| B | H | forward µs/step | BPTT µs/step | product [B,H]·[H,H] µs | forward / product | BPTT / 2 products |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.B} | ${r.H} | ${f(r.forwardUs)} | ${f(r.backwardUs)} | ${f(r.productUs)} | ${f(r.forwardRatio)}× | ${f(r.backwardRatio)}× |`);
  }
  const worst = Math.max(...rows.map((r) => Math.max(r.forwardRatio, r.backwardRatio)));
  console.log(`\nWorst ratio ${f(worst)}× (target: within 2×).`);
}
