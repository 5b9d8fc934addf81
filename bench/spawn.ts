/**
 * Runs one benchmark child (a Node child under tsx, or the PyTorch script
 * under python3) and returns its result. Never throws: a child that fails,
 * times out or prints no result comes back as `skipped: <why>`.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_MARK, type ChildResult, type Job } from './common.js';

/** The benchmark directory and the repository root. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH_DIR);

/** The implementations a child can run. */
export type Impl = 'rnnblas' | 'pytorch' | 'onnxruntime' | 'tfjs-cpu' | 'tfjs-wasm' | 'reference';

/** Display names. */
export const IMPL_LABEL: Record<Impl, string> = {
  rnnblas: 'rnnblas',
  pytorch: 'PyTorch',
  onnxruntime: 'onnxruntime',
  'tfjs-cpu': 'tfjs-cpu',
  'tfjs-wasm': 'tfjs-wasm',
  reference: 'TS reference',
};

/** Python used for PyTorch ($PYTHON, else /usr/bin/python3). */
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

function command(impl: Impl, job: Job): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const json = JSON.stringify(job);
  const n = String(job.threads);
  if (impl === 'pytorch') {
    return {
      cmd: PYTHON,
      args: [join(BENCH_DIR, 'torch_bench.py'), json],
      env: { ...process.env, GOMP_SPINCOUNT: '0', OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
    };
  }
  const file = { rnnblas: 'impl_rnnblas.ts', onnxruntime: 'impl_ort.ts', 'tfjs-cpu': 'impl_tfjs.ts', 'tfjs-wasm': 'impl_tfjs.ts', reference: 'impl_reference.ts' }[impl];
  const options = impl.startsWith('tfjs-') ? { ...job.options, backend: impl.slice(5) } : job.options;
  return {
    cmd: process.execPath,
    args: ['--import', 'tsx', join(BENCH_DIR, file), JSON.stringify({ ...job, options })],
    env: { ...process.env },
  };
}

/** Runs impl on job in a fresh process (timeoutMs: kill it and report a skip). */
export function runChildProcess(impl: Impl, job: Job, timeoutMs = 20 * 60_000): Promise<ChildResult> {
  const { cmd, args, env } = command(impl, job);
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ impl, timings: [], skipped: `could not start ${cmd}: ${(e as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ impl, timings: [], skipped: `could not start ${cmd}: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_MARK));
      if (line) {
        try {
          const r = JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult;
          resolve({ ...r, impl });
          return;
        } catch {
          // fall through
        }
      }
      const why = timedOut
        ? `timed out after ${Math.round(timeoutMs / 1000)} s`
        : `exited with code ${code} without a result${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`;
      resolve({ impl, timings: [], skipped: why });
    });
  });
}
