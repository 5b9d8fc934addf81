// A GEMM split over the thread team by rows or columns of C (team_gemm.h) gives every element
// the bits of the unsplit call, under each OpenBLAS kernel set this CPU can run: SkylakeX's and
// Haswell's tile C differently (row slices must be multiples of 12 for Haswell's, and its column
// slices never keep the bits), so each runs in a child process with OPENBLAS_CORETYPE set
// (OpenBLAS reads it once, when it loads).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const flags = existsSync('/proc/cpuinfo') && process.arch === 'x64'
  ? new Set((readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/))
  : new Set<string>();
const CORES: Array<[string, boolean]> = [
  ['SkylakeX', ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))],
  ['Haswell', flags.has('avx2') && flags.has('fma')],
];

// [transA, transB, M, N, K]: row splits with slices that are not multiples of 12 or 16 at an even
// split (640 and 455 rows), a column-major-ish shape (N > M, split by rows on Haswell's kernels,
// by columns on SkylakeX's), and transposed operands. Each is above the split threshold (2^19).
const SHAPES: Array<[boolean, boolean, number, number, number]> = [
  [false, true, 640, 100, 17],
  [false, false, 640, 100, 17],
  [true, false, 330, 100, 33],
  [false, true, 455, 512, 33],
  [false, false, 200, 1000, 9],
];

const CHILD = `
import { setNumThreads } from './src/index.ts';
import { native } from './src/native/binding.ts';
const shapes = JSON.parse(process.argv[1]);
const out = [];
for (const [ta, tb, M, N, K] of shapes) {
  const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 1.7));
  const B = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.3) * 0.2);
  const run = (threads) => {
    setNumThreads(threads);
    const C = new Float32Array(M * N);
    native.sgemm(ta, tb, M, N, K, 1, A, ta ? M : K, B, tb ? K : N, 0, C, N);
    return C;
  };
  const one = run(1), two = run(2);
  let differ = 0;
  for (let i = 0; i < one.length; i++) if (!Object.is(one[i], two[i])) differ++;
  out.push(differ);
}
console.log(JSON.stringify(out));
`;

describe('team GEMM splits keep the bits of the unsplit call', () => {
  for (const [core, runs] of CORES) {
    it.skipIf(!runs)(`under OpenBLAS's ${core} kernels`, () => {
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, JSON.stringify(SHAPES)], {
        env: { ...process.env, OPENBLAS_CORETYPE: core },
        encoding: 'utf8',
      });
      const differ = JSON.parse(stdout.trim().split('\n').pop() as string) as number[];
      expect(Object.fromEntries(SHAPES.map((s, i) => [s.join(' '), differ[i]]))).toEqual(Object.fromEntries(SHAPES.map((s) => [s.join(' '), 0])));
    });
  }
});
