/**
 * Loads the PyTorch reference fixtures in `test/fixtures/torch-rnn/` (see the README
 * there for the conventions) and provides the error measure they are compared with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReferenceRnnConfig } from '../../src/reference/rnn_reference.js';

/** A tensor as stored in a fixture: flat row-major data plus shape. */
export interface FixtureTensor {
  /** Size of each axis. */
  shape: number[];
  /** `prod(shape)` numbers, last axis fastest. */
  data: number[];
}

/** One fixture file: a configuration, its inputs and PyTorch's float64 results. */
export interface TorchFixture {
  /** File name without `.json`. */
  name: string;
  /** The `torch.nn.RNN` configuration and the run's sizes. */
  config: ReferenceRnnConfig & {
    seqLen: number;
    batch: number;
    /** Steps used by each batch row (batch order), or null for all `seqLen`. */
    seqLengths: number[] | null;
  };
  /** x and h0 (null = zeros). */
  inputs: { x: FixtureTensor; h0: FixtureTensor | null };
  /** Parameters under PyTorch's state_dict names, in state_dict order. */
  weights: Record<string, FixtureTensor>;
  /** PyTorch's forward results. */
  outputs: { y: FixtureTensor; hN: FixtureTensor };
  /** The loss `sum(y*gy) + sum(hN*ghN)`: its upstream gradients and its value. */
  loss: { gy: FixtureTensor; ghN: FixtureTensor; value: number };
  /** d(loss)/d(x), d(loss)/d(h0) (null when h0 is null) and every parameter's gradient. */
  gradients: Record<string, FixtureTensor | null>;
}

/** Directory holding the fixture JSON files. */
export const TORCH_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/torch-rnn/', import.meta.url));

function checkTensor(where: string, t: FixtureTensor | null): void {
  if (t === null) return;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(t.data) || t.data.length !== n) {
    throw new Error(`${where}: expected ${n} numbers for shape [${t.shape.join(', ')}], found ${t.data?.length}`);
  }
}

/** Reads and parses every `*.json` fixture, sorted by file name; checks each tensor's size. */
export function loadTorchFixtures(): TorchFixture[] {
  const files = readdirSync(TORCH_FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const fx = JSON.parse(readFileSync(join(TORCH_FIXTURE_DIR, file), 'utf8')) as TorchFixture;
    checkTensor(`${file} inputs.x`, fx.inputs.x);
    checkTensor(`${file} inputs.h0`, fx.inputs.h0);
    checkTensor(`${file} outputs.y`, fx.outputs.y);
    checkTensor(`${file} outputs.hN`, fx.outputs.hN);
    checkTensor(`${file} loss.gy`, fx.loss.gy);
    checkTensor(`${file} loss.ghN`, fx.loss.ghN);
    for (const [k, t] of Object.entries(fx.weights)) checkTensor(`${file} weights.${k}`, t);
    for (const [k, t] of Object.entries(fx.gradients)) checkTensor(`${file} gradients.${k}`, t);
    return fx;
  });
}

/**
 * The fixtures' error measure: `max_i |a_i - b_i| / max(1, |b_i|)` (0 for empty inputs),
 * i.e. absolute error for small values, relative for large ones. NaN anywhere gives NaN.
 * Throws if the lengths differ.
 */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new RangeError(`maxRelError: lengths differ (${actual.length} vs ${expected.length})`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    // NaN compares false, so propagate it explicitly rather than silently skipping it.
    if (Number.isNaN(err)) return NaN;
    if (err > worst) worst = err;
  }
  return worst;
}
