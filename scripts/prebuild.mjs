#!/usr/bin/env node
// Builds a prebuilt addon for this platform with OpenBLAS linked statically,
// checks that no shared libopenblas remains, smoke-loads it in a fresh
// process, and puts it in prebuilds/<platform>-<arch>/ (prebuildify's layout).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'build-prebuild');
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    console.error(`prebuild: ${cmd} ${args.join(' ')} failed\n${r.stdout ?? ''}${r.stderr ?? ''}`);
    process.exit(1);
  }
  return r.stdout ?? '';
}

rmSync(out, { recursive: true, force: true });
run(process.execPath, [cmakeJs, 'compile', '--out', out, '--CDRNNBLAS_STATIC_OPENBLAS=ON'], { stdio: 'inherit' });
const built = join(out, 'Release', 'rnnblas.node');

if (process.platform === 'linux') {
  const deps = run('ldd', [built]);
  if (/libopenblas/.test(deps)) {
    console.error(`prebuild: ${built} still links a shared libopenblas:\n${deps}`);
    process.exit(1);
  }
  console.log(`prebuild: shared libraries:\n${deps}`);
}

const smoke = `const a = require(${JSON.stringify(built)}); const i = a.blasInfo();
const y = new Float32Array(2), h = new Float32Array(1);
a.forward(new Float32Array([1, 2]), null, new Float32Array([0.5]), new Float32Array([0.25]), null, null, null, y, h, 2, 1, 1, 1, 1, 0, false);
if (Math.abs(y[1] - Math.tanh(1 + 0.25 * Math.tanh(0.5))) > 1e-6) throw new Error('wrong result ' + y);
console.log('prebuild: smoke test ok,', i.version, i.core, i.numThreads + ' threads');`;
run(process.execPath, ['-e', smoke], { stdio: 'inherit' });

const dest = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dest, { recursive: true });
copyFileSync(built, join(dest, 'rnnblas.node'));
console.log(`prebuild: wrote ${join(dest, 'rnnblas.node')}`);
