#!/usr/bin/env node
// Builds the prebuilt addon for this platform with OpenBLAS linked statically
// (in build-prebuild/, never build/), checks that it needs no shared library
// beyond the C/C++ runtime, smoke-loads it in a fresh process, and puts it in
// prebuilds/<platform>-<arch>/rnnblas.node (prebuildify's layout).
//
//   node scripts/prebuild.mjs            always rebuild
//   node scripts/prebuild.mjs --if-stale  keep an existing prebuild newer than
//                                        every file in native/, binding/ and
//                                        CMakeLists.txt
//
// Debian's libopenblas.a is a DYNAMIC_ARCH build (kernels for every x86-64
// CPU, chosen at load time), so one binary serves every x86-64 machine; the
// BLAS/LAPACK objects rnnblas uses need no libgfortran (checked below: the
// binary's NEEDED list is only the allowed runtime libraries).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const out = join(root, 'build-prebuild');
const dest = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const target = join(dest, 'rnnblas.node');

/** Shared libraries a prebuild may need: glibc's and GCC's C/C++ runtime, present on every Linux with Node. */
const ALLOWED = /^(linux-vdso\.so|libc\.so|libm\.so|libmvec\.so|libpthread\.so|libdl\.so|librt\.so|libstdc\+\+\.so|libgcc_s\.so|ld-linux[-\w.]*\.so)/;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    console.error(`prebuild: ${cmd} ${args.join(' ')} failed\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`);
    process.exit(1);
  }
  return r.stdout ?? '';
}

function newestSource() {
  let newest = statSync(join(root, 'CMakeLists.txt')).mtimeMs;
  for (const d of ['native', 'binding']) {
    for (const f of readdirSync(join(root, d), { recursive: true })) {
      const s = statSync(join(root, d, String(f)));
      if (s.isFile()) newest = Math.max(newest, s.mtimeMs);
    }
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(target) && statSync(target).mtimeMs > newestSource()) {
  console.log(`prebuild: ${target} is up to date`);
  process.exit(0);
}

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
rmSync(out, { recursive: true, force: true });
run(process.execPath, [cmakeJs, 'compile', '--out', out, '--CDRNNBLAS_STATIC_OPENBLAS=ON'], { stdio: ['ignore', 'inherit', 'inherit'] });
const built = join(out, 'Release', 'rnnblas.node');

if (process.platform === 'linux') {
  const needed = [...run('readelf', ['-d', built]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const extra = needed.filter((n) => !ALLOWED.test(n));
  if (extra.length > 0) {
    console.error(`prebuild: ${built} needs shared libraries a user may not have: ${extra.join(', ')}`);
    process.exit(1);
  }
  const undef = run('nm', ['-D', '--undefined-only', built]);
  const foreign = undef.split('\n').filter((l) => /\b(cblas_|openblas_|_gfortran_)/.test(l));
  if (foreign.length > 0) {
    console.error(`prebuild: ${built} leaves BLAS/Fortran symbols undefined:\n${foreign.join('\n')}`);
    process.exit(1);
  }
  console.log(`prebuild: needs only ${needed.join(', ')}`);
}

// Through the public API (the binding's argument lists are internal): the
// loader takes RNNBLAS_ADDON first, and require() proves that file loads.
const smoke = `import { createRequire } from 'node:module';
createRequire(import.meta.url)(process.env.RNNBLAS_ADDON);
const { RNN, tensor, blasInfo } = await import('./src/index.ts');
const rnn = new RNN({ inputSize: 1, hiddenSize: 1, bias: false });
for (const p of rnn.parameters()) p.data.fill(p.name.startsWith('weight_ih') ? 0.5 : 0.25);
const { y } = rnn.forward(tensor(new Float32Array([1, 2]), [2, 1, 1]));
if (Math.abs(y.data[1] - Math.tanh(1 + 0.25 * Math.tanh(0.5))) > 1e-6) throw new Error('wrong result ' + y.data);
const i = blasInfo();
if (process.platform === 'linux' && process.arch === 'x64' && !/DYNAMIC_ARCH/.test(i.config)) throw new Error('OpenBLAS is not a DYNAMIC_ARCH build: ' + i.config);
console.log('prebuild: smoke test ok,', i.config);`;
run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', smoke], { stdio: 'inherit', env: { ...process.env, RNNBLAS_ADDON: built } });

mkdirSync(dest, { recursive: true });
// Copy then rename: a process loading the prebuild never sees half a file.
copyFileSync(built, `${target}.tmp`);
renameSync(`${target}.tmp`, target);
console.log(`prebuild: wrote ${target} (${(statSync(target).size / 1e6).toFixed(1)} MB)`);
