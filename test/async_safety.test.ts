// Hostile JS during async native calls, each in a child process (a crash
// would take the test runner down with it): the process must survive, and
// the library must then compute correct results (bit-identical to a
// synchronous run). Before core v2 each of these killed the process
// (SIGSEGV from a dangling pointer, or SIGABRT from a throw during teardown).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./helpers/async_hazards.ts', import.meta.url));

function run(scenario: string): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', child, scenario], { env: process.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 110_000);
    p.once('exit', (status, signal) => {
      clearTimeout(timer);
      if (status !== 0 || signal) {
        reject(new Error(`scenario ${scenario} ended with status ${status} signal ${signal}\n${out}\n${err}`));
        return;
      }
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as { ok: boolean; detail: string });
    });
  });
}

describe('async calls survive hostile JS', () => {
  const cases: Array<[string, string]> = [
    ['lengths', 'mutating the seqLengths array during forwardAsync/backwardAsync (bidirectional, h0, lengths)'],
    ['detach-x', "transferring x's buffer during a long forwardAsync (T=1500)"],
    ['detach-gy-grad', "transferring gy's and a parameter grad's buffer during a long backwardAsync"],
    ['detach-lstm', 'an LSTM: x, h0, c0 transferred during forwardAsync (backward then refuses, naming x), gy and gcN during backwardAsync'],
    ['detach-nograd', 'store-less (noGrad) forwardAsync of a 2-layer reset-before GRU and an LSTM: x, h0, c0 transferred mid-call'],
    ['detach-output', 'a plain output buffer detached mid-call: the promise rejects naming it'],
    ['detach-job-ops', "a job's GEMM output and loss slot detached, its targets overwritten mid-call: it rejects naming both, later jobs are exact"],
    ['terminate', 'worker.terminate() while the worker has async calls running'],
    ['worker-exit', 'process.exit() in a worker while it has async calls running'],
    ['threads', 'setNumThreads(1024) is capped at the CPUs available; a large backward then works'],
  ];
  for (const [name, what] of cases) {
    it.concurrent(what, async () => {
      const r = await run(name);
      expect(r.detail).toBeTypeOf('string');
      expect(r.ok, r.detail).toBe(true);
    }, 120_000);
  }
});
