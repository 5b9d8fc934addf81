/**
 * Text generation from a character-level model, one character per step,
 * carrying the recurrent state with RnnStream.
 */
import type { CharVocab } from '../data/vocab.js';
import { describe, rangeError, typeError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { Sequential } from '../nn/sequential.js';
import { RnnStream } from '../nn/stream.js';
import { Rng } from '../random.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkInt, checkNumber, checkOptions } from '../validate.js';

/** Options of {@link sample}. */
export interface SampleOptions {
  /** Text the model reads first (at least one character, all in the vocabulary). */
  prime: string;
  /** Characters to generate. */
  length: number;
  /** Softmax temperature (default 1); lower is more conservative, 0 always takes the most likely character. */
  temperature?: number;
  /** Draw only among the k most likely characters (default: all). */
  topK?: number;
  /** Seed of the sampling generator (default random). */
  seed?: number;
}

/** The id drawn from one row of logits. */
function pick(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let ids = Array.from({ length: V }, (_, i) => i);
  if (topK < V) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  // Softmax in float64 with the maximum subtracted, so large logits cannot overflow.
  let m = -Infinity;
  for (const i of ids) m = Math.max(m, logits[i] / temperature);
  const p = ids.map((i) => Math.exp(logits[i] / temperature - m));
  const total = p.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= p[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}

/**
 * Generates `length` characters after `prime`. The model reads the prime, then
 * each drawn character is fed back one step at a time (the state is carried, so
 * each step costs one time step, not the whole text). The model must map ids
 * `[T, 1]` (first layer Embedding) or one-hot vectors `[T, 1, V]` to logits
 * `[T, 1, V]` over the vocabulary, with unidirectional RNN layers. Runs in
 * evaluation mode; the model's mode is restored afterwards.
 *
 * @param model - E.g. Embedding → RNN → Linear.
 * @param vocab - The vocabulary the model was trained with.
 * @param options - `prime`, `length`, `temperature`, `topK`, `seed`.
 * @returns The generated characters (without the prime).
 */
export function sample(model: Sequential, vocab: CharVocab, options: SampleOptions): string {
  if (!(model instanceof Sequential)) throw typeError('model', 'a Sequential (e.g. Embedding → RNN → Linear)', model);
  if (vocab === null || typeof vocab !== 'object' || typeof (vocab as CharVocab).encode !== 'function') throw typeError('vocab', 'a CharVocab (from charVocab)', vocab);
  if (options === undefined) throw typeError('options', 'an options object with prime and length', options);
  const o = checkOptions<SampleOptions>('options', options, ['prime', 'length', 'temperature', 'topK', 'seed']);
  if (typeof o.prime !== 'string') throw typeError('options.prime', 'a non-empty string', o.prime);
  if (o.prime.length === 0) throw rangeError('options.prime', 'at least one character (the model needs an input to start from)', describe(o.prime));
  const length = checkInt('options.length', o.length, 0);
  const temperature = checkNumber('options.temperature', o.temperature ?? 1, 0);
  const V = vocab.size;
  const topK = checkInt('options.topK', o.topK ?? V, 1, V);
  const rng = new Rng(o.seed === undefined ? undefined : checkInt('options.seed', o.seed, 0, 2 ** 53));
  const primeIds = vocab.encode(o.prime);

  const embed = model.layers[0] instanceof Embedding;
  const input = (ids: ArrayLike<number>): Tensor | IntTensor => {
    if (embed) return { data: Int32Array.from(ids), shape: [ids.length, 1] };
    const oneHot = new Float32Array(ids.length * V);
    for (let t = 0; t < ids.length; t++) oneHot[t * V + ids[t]] = 1;
    return { data: oneHot, shape: [ids.length, 1, V] };
  };
  const lastLogits = (y: Tensor, T: number): Float32Array => {
    if (y.shape.length !== 3 || y.shape[0] !== T || y.shape[1] !== 1 || y.shape[2] !== V) {
      throw rangeError('model output', `logits [T, 1, ${V}] (one per vocabulary character)`, `shape [${y.shape.join(', ')}]`);
    }
    return y.data.subarray((T - 1) * V, T * V);
  };

  const stream = new RnnStream(model);
  const wasTraining = model.training;
  model.eval();
  try {
    let logits = lastLogits(stream.step(input(primeIds)), primeIds.length);
    const out = new Int32Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = pick(logits, temperature, topK, rng);
      if (i + 1 < length) logits = lastLogits(stream.step(input([out[i]])), 1);
    }
    return vocab.decode(out);
  } finally {
    model.train(wasTraining);
  }
}
