#!/usr/bin/env node
// npm install hook: use a prebuild for this platform when one is present and
// loads; otherwise build the addon with cmake-js against the system OpenBLAS.
// (prebuildify/node-gyp-build assume node-gyp, so this fallback is ours.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnblas.node');

if (existsSync(prebuild) && !process.env.RNNBLAS_BUILD_FROM_SOURCE) {
  try {
    require(prebuild);
    console.log(`rnnblas: using prebuild ${prebuild}`);
    process.exit(0);
  } catch (err) {
    console.log(`rnnblas: prebuild does not load here (${err.message.split('\n')[0]}); building from source`);
  }
}

if (!hasOpenBlas()) {
  const hint = process.platform === 'darwin' ? 'brew install openblas' : 'apt-get install -y libopenblas-dev';
  console.error(`rnnblas: OpenBLAS not found; install it first (${hint}) and run npm install again.`);
  process.exit(1);
}

if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) {
  const hint = process.platform === 'darwin' ? 'brew install cmake' : 'apt-get install -y cmake g++';
  console.error(`rnnblas: cmake not found; install it first (${hint}) and run npm install again.`);
  process.exit(1);
}

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [cmakeJs, 'compile', '--out', 'build'];
if (process.env.RNNBLAS_SANITIZE) args.push('--CDRNNBLAS_SANITIZE=ON', '--debug');
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

function hasOpenBlas() {
  const pc = spawnSync('pkg-config', ['--exists', 'openblas'], { stdio: 'ignore' });
  if (pc.status === 0) return true;
  // No pkg-config (or no .pc file): look for the header where packages put it.
  return [
    '/usr/include/cblas.h',
    '/usr/include/openblas/cblas.h',
    '/usr/include/x86_64-linux-gnu/cblas.h',
    '/usr/local/include/cblas.h',
    '/opt/homebrew/opt/openblas/include/cblas.h',
    '/usr/local/opt/openblas/include/cblas.h',
  ].some((p) => existsSync(p));
}
