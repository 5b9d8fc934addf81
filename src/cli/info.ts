/**
 * `rnnblas info`: where the addon was loaded from and what OpenBLAS it uses.
 */
import { existsSync } from 'node:fs';
import { blasInfo } from '../blas.js';
import { addonCandidates, packageRoot } from '../native/load.js';
import { packageVersion } from './version.js';

/** Prints (or returns as JSON) the addon path, OpenBLAS build and thread settings, and Node version. */
export function runInfo(json: boolean): void {
  const info = blasInfo();
  const addon = addonCandidates().find((p) => existsSync(p)) ?? '(not found)';
  const data = {
    version: packageVersion(),
    addon,
    packageRoot: packageRoot(),
    openblasVersion: info.version,
    openblasCore: info.core,
    openblasConfig: info.config,
    threads: info.numThreads,
    processors: info.numProcs,
    parallel: info.parallel,
    stepKernel: info.stepKernel,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  if (json) {
    process.stdout.write(JSON.stringify(data) + '\n');
    return;
  }
  const rows: [string, string][] = [
    ['rnnblas', data.version],
    ['addon', data.addon],
    ['OpenBLAS', data.openblasVersion],
    ['core', data.openblasCore],
    ['config', data.openblasConfig],
    ['threads', `${data.threads} (of ${data.processors} processors; rnnblas' own team, OpenBLAS single-threaded)`],
    ['steps', data.stepKernel === 'blas' ? 'OpenBLAS sgemm per step' : `packed ${data.stepKernel === 'avx512' ? 'AVX-512' : 'AVX2'} kernel`],
    ['node', `${data.node} (${data.platform})`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(9)} ${v}`);
}
