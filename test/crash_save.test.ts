// SIGKILL at random moments while a checkpoint is being written never leaves a
// file that fails to load: writes go to a temporary file, are fsynced and
// renamed over the target.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, RNN } from '../src/index.js';
import { makeRng } from './helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = fileURLToPath(new URL('./helpers/save_loop.ts', import.meta.url));

function runAndKill(path: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.once('data', () => setTimeout(() => p.kill('SIGKILL'), delayMs));
    p.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed (${signal})`))));
  });
}

describe('crash while saving', () => {
  it('the file always loads after SIGKILL at random moments (8 kills)', async () => {
    const rng = makeRng(2026);
    const path = join(dir, 'model.safetensors');
    const versions: number[] = [];
    for (let i = 0; i < 8; i++) {
      await runAndKill(path, Math.floor(rng.uniform() * 200));
      const { model, extra } = await loadModel(path);
      const version = (extra as { version: number }).version;
      expect(version).toBeGreaterThanOrEqual(1);
      versions.push(version);
      expect(model).toBeInstanceOf(RNN);
      // Every tensor holds the same version: never a mix of two writes.
      for (const p of (model as RNN).parameters()) expect(p.data.every((v) => v === version)).toBe(true);
    }
    // The kills landed while writes were going on (not only before the first).
    expect(Math.max(...versions)).toBeGreaterThan(1);
    // Killed writers may leave temporary files behind; the target is never one of them.
    expect(readdirSync(dir)).toContain('model.safetensors');
  }, 120_000);
});
