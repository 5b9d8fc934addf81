#!/usr/bin/env node
// npm install hook.
//
// 1. The addon: use the prebuild for this platform when one is present and
//    loads (the packed tarball ships prebuilds/linux-x64/rnnblas.node with
//    OpenBLAS linked in, so users need no compiler); otherwise build it with
//    cmake-js against the system OpenBLAS.
// 2. In a source checkout (src/ present, as after `git clone`), compile the
//    TypeScript to dist/ so that `npx rnnblas` works right after
//    `npm install`. The packed tarball ships dist/ and has no src/, so users
//    who install it compile nothing.
//
// (prebuildify/node-gyp-build assume node-gyp, so this fallback is ours.)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnblas.node');
const sourceCheckout = existsSync(join(root, 'src', 'index.ts')) && existsSync(join(root, 'tsconfig.build.json'));

function fail(message) {
  console.error(`rnnblas: ${message}`);
  process.exit(1);
}

function resolveOrNull(id) {
  try {
    return require.resolve(id);
  } catch {
    return null;
  }
}

function buildAddon() {
  if (existsSync(prebuild) && !process.env.RNNBLAS_BUILD_FROM_SOURCE) {
    try {
      require(prebuild);
      console.log(`rnnblas: using prebuild ${prebuild}`);
      return;
    } catch (err) {
      console.log(`rnnblas: prebuild does not load here (${err.message.split('\n')[0]}); building from source`);
    }
  } else if (!sourceCheckout && !process.env.RNNBLAS_BUILD_FROM_SOURCE) {
    console.log(`rnnblas: no prebuilt binary for ${process.platform}-${process.arch}; building from source`);
  }

  if (!hasOpenBlas()) {
    const hint = process.platform === 'darwin' ? 'brew install openblas' : 'apt-get install -y libopenblas-dev';
    fail(`OpenBLAS not found; install it first (${hint}) and run npm install again.`);
  }
  if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) {
    const hint = process.platform === 'darwin' ? 'brew install cmake' : 'apt-get install -y cmake g++';
    fail(`cmake not found; install it first (${hint}) and run npm install again.`);
  }
  // cmake-js and node-addon-api are needed only here, so they are development
  // dependencies: a user building from source installs them next to rnnblas.
  const cmakeJsPkg = resolveOrNull('cmake-js/package.json');
  if (!cmakeJsPkg || !resolveOrNull('node-addon-api')) {
    fail('building from source needs cmake-js and node-addon-api: run `npm install cmake-js@8 node-addon-api@8` in your project, then `npm rebuild rnnblas`.');
  }
  const args = [join(dirname(cmakeJsPkg), 'bin', 'cmake-js'), 'compile', '--out', 'build'];
  if (process.env.RNNBLAS_SANITIZE) args.push('--CDRNNBLAS_SANITIZE=ON', '--debug');
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function buildTypeScript() {
  if (!sourceCheckout) return;
  const tsc = resolveOrNull('typescript/bin/tsc');
  if (!tsc) {
    // A source checkout installed without dev dependencies: keep what dist/ holds.
    if (!existsSync(join(root, 'dist', 'index.js'))) fail('dist/ is missing and TypeScript is not installed (run npm install without --omit=dev).');
    return;
  }
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail('compiling the TypeScript sources failed (see above).');
  // tsc writes plain files; `npx rnnblas` in the checkout runs the bin directly.
  chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
  console.log('rnnblas: compiled src/ to dist/');
}

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

buildAddon();
buildTypeScript();
