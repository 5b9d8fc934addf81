/**
 * `rnnblas info`: where the addon was loaded from and what OpenBLAS it uses.
 */
import { existsSync } from 'node:fs';
import { blasInfo } from '../blas.js';
import { addonCandidates, packageRoot } from '../native/load.js';

/** Prints (or returns as JSON) the addon path, OpenBLAS build and thread settings, and Node version. */
export function runInfo(json: boolean): void {
  const info = blasInfo();
  const addon = addonCandidates().find((p) => existsSync(p)) ?? '(not found)';
  const data = {
    addon,
    packageRoot: packageRoot(),
    openblasVersion: info.version,
    openblasCore: info.core,
    openblasConfig: info.config,
    threads: info.numThreads,
    processors: info.numProcs,
    parallel: info.parallel,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  if (json) {
    process.stdout.write(JSON.stringify(data) + '\n');
    return;
  }
  const rows: [string, string][] = [
    ['addon', data.addon],
    ['OpenBLAS', data.openblasVersion],
    ['core', data.openblasCore],
    ['config', data.openblasConfig],
    ['threads', `${data.threads} (of ${data.processors} processors${data.parallel ? '' : ', single-threaded build'})`],
    ['node', `${data.node} (${data.platform})`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(9)} ${v}`);
}
