/**
 * Loads the PyTorch LSTM/GRU reference fixtures in `test/fixtures/torch-gated/` (the
 * README there gives the format: the torch-rnn layout plus `mode`, c0/cN/gcN for LSTM).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReferenceGatedConfig } from '../../src/reference/gated_reference.js';
import type { FixtureTensor } from './torch_fixtures.js';

/** One fixture file. */
export interface GatedFixture {
  name: string;
  config: ReferenceGatedConfig & { seqLen: number; batch: number; seqLengths: number[] | null; projSize?: number };
  inputs: { x: FixtureTensor; h0: FixtureTensor | null; c0?: FixtureTensor | null };
  weights: Record<string, FixtureTensor>;
  outputs: { y: FixtureTensor; hN: FixtureTensor; cN?: FixtureTensor };
  loss: { gy: FixtureTensor; ghN: FixtureTensor; gcN?: FixtureTensor; value: number };
  gradients: Record<string, FixtureTensor | null>;
}

/** Directory holding the fixture JSON files. */
export const GATED_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/torch-gated/', import.meta.url));

/** Every `*.json` fixture, sorted by name; each tensor's size checked against its shape. */
export function loadGatedFixtures(): GatedFixture[] {
  return readdirSync(GATED_FIXTURE_DIR).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const fx = JSON.parse(readFileSync(join(GATED_FIXTURE_DIR, file), 'utf8')) as GatedFixture;
    const tensors: Array<[string, FixtureTensor | null | undefined]> = [
      ['inputs.x', fx.inputs.x], ['inputs.h0', fx.inputs.h0], ['inputs.c0', fx.inputs.c0],
      ['outputs.y', fx.outputs.y], ['outputs.hN', fx.outputs.hN], ['outputs.cN', fx.outputs.cN],
      ['loss.gy', fx.loss.gy], ['loss.ghN', fx.loss.ghN], ['loss.gcN', fx.loss.gcN],
      ...Object.entries(fx.weights).map(([k, t]) => [`weights.${k}`, t] as [string, FixtureTensor]),
      ...Object.entries(fx.gradients).map(([k, t]) => [`gradients.${k}`, t] as [string, FixtureTensor | null]),
    ];
    for (const [where, t] of tensors) {
      if (!t) continue;
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== n) throw new Error(`${file} ${where}: expected ${n} numbers, found ${t.data.length}`);
    }
    return fx;
  });
}

/** A fixture tensor as a Float64Array (null stays null). */
export function f64(t: FixtureTensor | null | undefined): Float64Array | null {
  return t ? Float64Array.from(t.data) : null;
}
