/**
 * `rnnblas sample`: text from a model written by `rnnblas train` (or any
 * Embedding -> RNN -> Linear model file with its vocabulary in `extra.vocab`).
 */
import { loadCharModel, sampleText } from './char_model.js';

/** Options of `rnnblas sample`. */
export interface SampleOptions {
  /** Model file. */
  model: string;
  /** Text fed first. */
  prime: string;
  /** Characters to generate. */
  length: number;
  /** Softmax temperature. */
  temperature: number;
  /** Top-k filtering (0: off). */
  topK: number;
  /** Seed (default random). */
  seed?: number;
}

/** Prints the prime followed by `length` generated characters. */
export async function runSample(o: SampleOptions): Promise<void> {
  const { model, vocab } = await loadCharModel(o.model, '--model');
  const text = sampleText(model, vocab, { prime: o.prime, length: o.length, temperature: o.temperature, topK: o.topK, seed: o.seed });
  process.stdout.write(o.prime + text + '\n');
}
