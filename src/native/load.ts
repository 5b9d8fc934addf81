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

/**
 * Candidate addon paths, in the order they are tried. RNNBLAS_ADDON, when set, is the only one:
 * a run that asked for a particular build (the sanitizer suite, an A/B benchmark) must not fall
 * back to another one unnoticed.
 */
export function addonCandidates(root = packageRoot()): string[] {
  const fromEnv = process.env.RNNBLAS_ADDON;
  if (fromEnv) return [fromEnv];
  return [
    join(root, 'build', 'Release', 'rnnblas.node'),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnblas.node'),
  ];
}

/**
 * The OpenBLAS core type for a CPU with these /proc/cpuinfo flags: 'SkylakeX' with AVX-512
 * (F, BW, DQ, VL: what its SkylakeX kernels use), 'Haswell' with AVX2 and FMA, else null.
 */
export function openBlasCoreFor(flags: ReadonlySet<string>): 'SkylakeX' | 'Haswell' | null {
  if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return null;
}

/** How OPENBLAS_CORETYPE was set when the addon loaded: by the environment, by rnnblas from the CPU's flags, or not at all. */
export let openBlasCoreSource: 'environment' | 'rnnblas' | 'unset' = 'unset';

/**
 * OpenBLAS built for many CPUs (Debian's, DYNAMIC_ARCH) picks its kernels when it loads, and
 * one older than the CPU falls back to generic ones: Debian's 0.3.21 takes a Sapphire Rapids
 * Xeon for a Prescott and runs SSE3 sgemm, ~4x slower than its SkylakeX kernels on the same
 * machine. So, when OPENBLAS_CORETYPE is unset, rnnblas sets it from the CPU's own flags before
 * the addon (and OpenBLAS with it) loads; a value in the environment is left as it is.
 */
function chooseOpenBlasCore(): void {
  if (process.env.OPENBLAS_CORETYPE !== undefined) {
    openBlasCoreSource = 'environment';
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return;
  }
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return;
  const core = openBlasCoreFor(new Set(line[1].trim().split(/\s+/)));
  if (core === null) return;
  process.env.OPENBLAS_CORETYPE = core;
  openBlasCoreSource = 'rnnblas';
}

/** Loads the first candidate that exists and loads; throws one clear error otherwise. */
export function loadAddon(): unknown {
  chooseOpenBlasCore();
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
  if (process.env.RNNBLAS_ADDON) {
    throw new Error(`rnnblas: the addon RNNBLAS_ADDON names could not be loaded: ${tried.join('; ')}. Unset RNNBLAS_ADDON to use the package's own build.`);
  }
  throw new Error(
    'rnnblas: the native addon is not built. Install OpenBLAS (apt-get install -y libopenblas-dev) ' +
      `and run \`npm install\` (or \`npm run build:native\`). Tried: ${tried.join('; ')}`,
  );
}
