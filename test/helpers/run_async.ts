/**
 * A child process run without blocking the test worker: vitest's worker answers
 * its RPC calls on the event loop, and a synchronous child that runs past a
 * minute (a cold `npm pack` builds the prebuild) makes those calls time out.
 */
import { spawn, type SpawnOptions } from 'node:child_process';

/** What {@link runAsync} reports, shaped like `spawnSync`'s result. */
export interface AsyncRun {
  /** Exit code, or null when the child was killed. */
  status: number | null;
  /** The child's stdout. */
  stdout: string;
  /** The child's stderr. */
  stderr: string;
}

/** Runs `command args`, killing it after `timeout` ms; never rejects on a non-zero exit. */
export function runAsync(command: string, args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<AsyncRun> {
  const { timeout = 0, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timer = timeout > 0 ? setTimeout(() => child.kill('SIGKILL'), timeout) : undefined;
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
