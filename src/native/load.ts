/**
 * Finds and loads the compiled addon: the local cmake-js build when there is
 * one (it was made on this machine from these sources: a leftover prebuild
 * must not shadow it), else a prebuild for this platform.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The package root: the nearest directory above this file whose package.json is rnnblas'. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'rnnblas') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('rnnblas: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Candidate addon paths, in the order they are tried. */
export function addonCandidates(root = packageRoot()): string[] {
  const fromEnv = process.env.RNNBLAS_ADDON;
  return [
    ...(fromEnv ? [fromEnv] : []),
    join(root, 'build', 'Release', 'rnnblas.node'),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnblas.node'),
  ];
}

/** Loads the first candidate that exists and loads; throws one clear error otherwise. */
export function loadAddon(): unknown {
  const tried: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) {
      tried.push(`${path} (missing)`);
      continue;
    }
    try {
      return require(path);
    } catch (err) {
      tried.push(`${path} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  throw new Error(
    'rnnblas: the native addon is not built. Install OpenBLAS (apt-get install -y libopenblas-dev) ' +
      `and run \`npm install\` (or \`npm run build:native\`). Tried: ${tried.join('; ')}`,
  );
}
