#!/usr/bin/env node
// npm pack / npm publish: what the tarball ships, built fresh.
//   dist/      compiled from src/ (no source maps: src/ is not shipped)
//   prebuilds/ the linux-x64 addon with OpenBLAS linked statically (scripts/prebuild.mjs)
// RNNBLAS_PREBUILD_IF_STALE=1 keeps an existing prebuild that is newer than
// the native sources (the package test uses it to avoid a second build).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// postpack: a prebuild that prepack made only for the tarball is removed again, since the
// loader prefers prebuilds/ to build/Release/ and would shadow later native builds.
const marker = join(root, 'build-prebuild', 'made-by-prepack');
if (process.argv.includes('--post')) {
  if (existsSync(marker)) {
    rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    rmSync(marker, { force: true });
  }
  process.exit(0);
}
const hadPrebuild = existsSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnblas.node'));

// A fresh dist/ (no files left from renamed or deleted sources), swapped in at the end.
const next = join(root, 'build-dist'); // gitignored (build-*/)
rmSync(next, { recursive: true, force: true });
run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', next, '--sourceMap', 'false', '--declarationMap', 'false']);
chmodSync(join(next, 'cli', 'main.js'), 0o755); // the bin
rmSync(join(root, 'dist'), { recursive: true, force: true });
renameSync(next, join(root, 'dist'));

if (process.platform === 'linux' && process.arch === 'x64') {
  run([join(root, 'scripts', 'prebuild.mjs'), ...(process.env.RNNBLAS_PREBUILD_IF_STALE ? ['--if-stale'] : [])]);
  if (!hadPrebuild) {
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, '');
  }
} else if (!existsSync(join(root, 'prebuilds'))) {
  console.log(`prepack: no prebuild for ${process.platform}-${process.arch}; the package builds from source on install`);
}
