/**
 * Running the `rnnblas` command line from tests: `node tsx src/cli/main.ts ...`
 * in a given folder, one BLAS thread, and reading its `--json` lines.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The CLI's entry point (TypeScript source). */
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
/** tsx's command-line runner. */
export const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** The environment the CLI runs with. */
export const CLI_ENV = { ...process.env, OPENBLAS_NUM_THREADS: '1' };

/** What one run printed and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rnnblas ...args` in `cwd` and waits for it. */
export function runCli(cwd: string, args: string[], timeout = 60_000): CliRun {
  const r = spawnSync(process.execPath, [TSX, MAIN, ...args], { cwd, encoding: 'utf8', timeout, env: CLI_ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every non-empty line of `stdout`, parsed as JSON. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
