/**
 * Regenerates the README's pictures from the real demos, with their default
 * settings and one BLAS thread (deterministic):
 *
 *   docs/gradients.svg   rnnblas demo gradients
 *   docs/adding.svg      rnnblas demo adding   (several minutes)
 *
 * Usage: npx tsx scripts/gen_readme_plots.ts [gradients] [adding]   (default: both)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DOCS = join(ROOT, 'docs');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

const which = process.argv.slice(2);
const wanted = (name: string): boolean => which.length === 0 || which.includes(name);

/** Runs one demo with --json into docs/ and returns its result line. */
function demo(name: string): Record<string, unknown> {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [TSX, MAIN, 'demo', name, '--json', '--threads', '1', '--out-dir', DOCS], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`rnnblas demo ${name} exited with ${r.status}`);
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
  console.log(`demo ${name}: ${last.plot} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return last;
}

if (wanted('gradients')) {
  const g = demo('gradients') as { length: number; curves: { name: string; gradNorm: number[] }[] };
  for (const c of g.curves) console.log(`  ${c.name.padEnd(18)} ‖∂L/∂h_0‖ = ${c.gradNorm[0].toExponential(2)}`);
}
if (wanted('adding')) {
  const a = demo('adding') as { models: { name: string; testMse: number; steps: number; solvedAt: number | null }[]; seconds: number };
  for (const m of a.models) console.log(`  ${m.name.padEnd(5)} test MSE ${m.testMse} after ${m.steps} steps (below 0.01 from step ${m.solvedAt ?? '-'})`);
  console.log(`  ${a.seconds} s`);
}
