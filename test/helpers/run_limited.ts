/**
 * Runs a child process under a memory and time limit: the V8 heap is capped with
 * `--max-old-space-size`, and the child's resident set (which also counts typed-array memory
 * outside the heap) is polled from /proc every 20 ms; the child is killed when it passes
 * `killRssMB` or `timeoutMs`. Reports the peak RSS seen, the wall time and the output.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What {@link runLimited} reports. */
export interface LimitedRun {
  /** The child's stdout. */
  stdout: string;
  /** The child's stderr (truncated to 4 KB). */
  stderr: string;
  /** Exit code, or null when killed. */
  code: number | null;
  /** Why the child was killed, if it was. */
  killed: 'rss' | 'timeout' | null;
  /** Highest RSS seen by polling, in MB. */
  peakRssMB: number;
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
}

function rssMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Spawns `node --max-old-space-size=<heapMB> ...args` and waits for it under the limits.
 *
 * @param args - node arguments after the heap flag (e.g. `['--import', 'tsx', script, ...]`).
 * @param opts - limits, environment and working directory.
 * @returns the run's report.
 */
export function runLimited(
  args: string[],
  opts: { heapMB?: number; killRssMB?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<LimitedRun> {
  const { heapMB = 512, killRssMB = 1024, timeoutMs = 30_000 } = opts;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMB}`, ...args], {
      cwd: opts.cwd,
      env: { OPENBLAS_NUM_THREADS: '1', ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let killed: LimitedRun['killed'] = null;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString().slice(0, 4096 - stderr.length);
    });
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const r = rssMB(child.pid);
      if (r > peak) peak = r;
      if (r > killRssMB && !killed) {
        killed = 'rss';
        child.kill('SIGKILL');
      }
    }, 20);
    const timer = setTimeout(() => {
      if (!killed) {
        killed = 'timeout';
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ stdout, stderr, code, killed, peakRssMB: Math.round(peak), wallMs: performance.now() - t0 });
    });
  });
}
