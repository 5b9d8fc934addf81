/**
 * The embedded series of `rnnblas forecast`: daily and weekly seasonality, a
 * slow trend and noise, generated deterministically from a seeded Rng.
 */
import { Rng } from '../../random.js';

/**
 * Generates the synthetic series.
 * @param length - Number of points (default 1200).
 * @param seed - Noise seed (default 11).
 * @returns The values, e.g. an hourly load-like signal with period 24 and 168.
 */
export function syntheticSeries(length = 1200, seed = 11): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(length);
  for (let t = 0; t < length; t++) {
    const daily = 10 * Math.sin((2 * Math.PI * t) / 24);
    const weekly = 4 * Math.sin((2 * Math.PI * t) / 168 + 0.5);
    const trend = 0.01 * t;
    out[t] = 50 + daily + weekly + trend + 1.5 * rng.normal();
  }
  return out;
}
