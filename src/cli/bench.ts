/**
 * `rnnblas bench`: runs the repository's benchmark suite (bench/run.ts) when
 * it is present (a source checkout), passing the arguments through.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native/load.js';

/** Spawns `node --import tsx bench/run.ts ...args` in the package root; resolves with its exit code. */
export function runBench(args: string[]): Promise<number> {
  const root = packageRoot();
  const script = join(root, 'bench', 'run.ts');
  if (!existsSync(script)) {
    process.stderr.write(`rnnblas: the benchmark suite is not in this installation (${script} not found); run 'rnnblas bench' from a source checkout of rnnblas\n`);
    return Promise.resolve(2);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`rnnblas: cannot start the benchmark: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 + 2 : 1)));
  });
}
