/**
 * The npm package as a user meets it: `npm pack` of this commit (prepack builds
 * dist/ and the static-OpenBLAS prebuild), installed into a new project with a
 * PATH holding only node, npm and sh (npm runs scripts through sh): no
 * compiler, cmake, pkg-config or OpenBLAS reachable; then a model runs.
 *
 * The package is made from `git archive HEAD` (committed files only, as a
 * release would be). Its prebuild is cached in build-pkgtest/ under the git
 * tree hashes of native/, binding/ and CMakeLists.txt, so the ~1 minute static
 * build happens once per change of the native sources, not on every run.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsync } from './helpers/run_async.js';

const ROOT = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'rnnblas-pkg-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const git = (args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
const isGit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).status === 0;

/** A directory whose only commands are node, npm, npx and sh. */
function minimalPath(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const npmCli = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin');
  const npmDir = existsSync(join(npmCli, 'npm-cli.js')) ? npmCli : join(ROOT, 'node_modules', 'npm', 'bin');
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(join(npmDir, 'npm-cli.js'), join(bin, 'npm'));
  symlinkSync(join(npmDir, 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

/** The environment of a user's shell: HOME (npm's cache) and the minimal PATH, nothing of this npm run. */
function userEnv(bin: string): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, PATH: bin, OPENBLAS_NUM_THREADS: '1', npm_config_cache: process.env.npm_config_cache };
}

let tarball = '';
let tarList: string[] = [];
let bin = '';

describe.runIf(linuxX64 && isGit)('the packed tarball', () => {
  beforeAll(async () => {
    const stage = join(work, 'stage');
    mkdirSync(stage);
    const archive = await runAsync('sh', ['-c', `git archive HEAD | tar -x -C '${stage}'`], { cwd: ROOT });
    expect(archive.status, archive.stderr).toBe(0);
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'));
    const key = [git(['rev-parse', 'HEAD:native']), git(['rev-parse', 'HEAD:binding']), git(['rev-parse', 'HEAD:CMakeLists.txt'])].map((h) => h.slice(0, 12)).join('-');
    const cached = join(ROOT, 'build-pkgtest', key, 'rnnblas.node');
    if (existsSync(cached)) {
      // Newer than every file of the archive, so prepack's --if-stale keeps it.
      mkdirSync(join(stage, 'prebuilds', 'linux-x64'), { recursive: true });
      copyFileSync(cached, join(stage, 'prebuilds', 'linux-x64', 'rnnblas.node'));
    }
    const out = join(work, 'out');
    mkdirSync(out);
    const env = { ...process.env, RNNBLAS_PREBUILD_IF_STALE: '1' };
    const pack = await runAsync('npm', ['pack', '--pack-destination', out, '--json'], { cwd: stage, env, timeout: 540_000 });
    expect(pack.status, pack.stderr).toBe(0);
    // What prebuild.mjs built (postpack removes the prebuilds/ copy it made for the tarball).
    const built = join(stage, 'build-prebuild', 'Release', 'rnnblas.node');
    if (!existsSync(cached) && existsSync(built)) {
      rmSync(join(ROOT, 'build-pkgtest'), { recursive: true, force: true }); // one cached prebuild at a time
      mkdirSync(join(ROOT, 'build-pkgtest', key), { recursive: true });
      copyFileSync(built, cached);
    }
    tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz')) as string);
    tarList = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    bin = minimalPath();
  }, 600_000);

  it('ships dist/, the prebuild, the licences and the build sources; no src/, tests or source maps', () => {
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/main.js', 'package/prebuilds/linux-x64/rnnblas.node', 'package/LICENSE', 'package/THIRD_PARTY_NOTICES.md', 'package/scripts/install.mjs', 'package/CMakeLists.txt', 'package/binding/addon.cpp']) {
      expect(tarList).toContain(f);
    }
    expect(tarList.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(tarList.filter((f) => /^package\/(src|test|bench)\//.test(f))).toEqual([]);
    const mb = statSync(tarball).size / 1e6;
    console.log(`tarball ${mb.toFixed(1)} MB, ${tarList.length} files`);
    expect(mb).toBeLessThan(20);
  });

  it('the minimal PATH has no compiler, cmake or pkg-config', () => {
    for (const tool of ['cmake', 'g++', 'cc', 'pkg-config', 'make']) {
      expect(spawnSync(tool, ['--version'], { env: userEnv(bin) }).error, tool).toBeDefined();
    }
  });

  it('installs into a new project without a compiler and without npm warnings; a model trains and runs', async () => {
    const project = join(work, 'project');
    mkdirSync(project);
    // What `npm install-scripts approve rnnblas` writes (npm 11 warns about dependency install
    // scripts until approved; a file dependency is known by its file: spec, a registry one by
    // its name). rnnblas' script only checks that the prebuild loads here.
    const allowScripts = { [`file:${tarball}`]: true, protobufjs: false };
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module', allowScripts }));
    const t0 = Date.now();
    const install = await runAsync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: project, env: userEnv(bin), timeout: 300_000 });
    const seconds = (Date.now() - t0) / 1000;
    const output = install.stdout + install.stderr;
    expect(install.status, output).toBe(0);
    console.log(`npm install of the tarball without a compiler: ${seconds.toFixed(1)} s`);
    expect(output).toContain('rnnblas: using prebuild');
    expect(output).not.toMatch(/npm warn/i);
    expect(existsSync(join(project, 'node_modules', 'rnnblas', 'build'))).toBe(false);
    // Runtime dependencies only: no build tools came along.
    for (const dev of ['cmake-js', 'node-addon-api', 'typescript', 'tsx', 'vitest']) expect(existsSync(join(project, 'node_modules', dev)), dev).toBe(false);

    const script = `
      import { RNN, tensor, blasInfo } from 'rnnblas';
      const rnn = new RNN({ inputSize: 1, hiddenSize: 1, bias: false });
      for (const p of rnn.parameters()) p.data.fill(p.name.startsWith('weight_ih') ? 0.5 : 0.25);
      const { y } = rnn.forward(tensor(new Float32Array([1, 2]), [2, 1, 1]));
      console.log(JSON.stringify({ y: Array.from(y.data), config: blasInfo().config }));`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { cwd: project, env: userEnv(bin), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { y, config } = JSON.parse(r.stdout) as { y: number[]; config: string };
    expect(y[0]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(y[1]).toBeCloseTo(Math.tanh(1 + 0.25 * Math.tanh(0.5)), 6);
    expect(config).toContain('DYNAMIC_ARCH');

    const info = spawnSync(join(project, 'node_modules', '.bin', 'rnnblas'), ['info', '--json'], { cwd: project, env: userEnv(bin), encoding: 'utf8' });
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).addon).toBe(join(project, 'node_modules', 'rnnblas', 'prebuilds', 'linux-x64', 'rnnblas.node'));
    const train = await runAsync(join(project, 'node_modules', '.bin', 'rnnblas'), ['train', '--steps', '3', '--hidden', '16', '--layers', '1', '--json', '--out', join(project, 'm.safetensors')], { cwd: project, env: userEnv(bin), timeout: 60_000 });
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout.trim().split('\n').at(-1)).toContain('"type":"done"');

    // Where the prebuild does not serve, the install builds from source, and says in one
    // line what is missing when it cannot (here: no cmake or OpenBLAS on the PATH).
    const env = { ...userEnv(bin), RNNBLAS_BUILD_FROM_SOURCE: '1' };
    const rebuild = await runAsync('npm', ['rebuild', 'rnnblas', '--foreground-scripts'], { cwd: project, env, timeout: 120_000 });
    expect(rebuild.status).not.toBe(0);
    expect(rebuild.stdout + rebuild.stderr).toMatch(/rnnblas: (cmake|OpenBLAS) not found; install it first/);
  }, 300_000);
});
