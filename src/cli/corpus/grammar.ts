/**
 * The embedded training corpus of `rnnblas train`: about 48 KB of English-like
 * text generated deterministically from a small grammar (a seeded Rng), so it
 * ships as code, needs no data file in dist/, and has structure a small
 * character-level RNN learns within a minute (words, agreement, punctuation).
 */
import { Rng } from '../../random.js';

const ANIMALS = ['fox', 'cat', 'dog', 'owl', 'hen', 'bear', 'wolf', 'mouse', 'horse', 'crow'];
const PEOPLE = ['farmer', 'baker', 'king', 'queen', 'sailor', 'child', 'miller', 'smith'];
const PLACES = ['the hill', 'the river', 'the old mill', 'the forest', 'the market', 'the harbour', 'the castle', 'the garden'];
const ADJECTIVES = ['old', 'little', 'red', 'quiet', 'clever', 'brave', 'sleepy', 'hungry', 'grey', 'happy'];
const VERBS_T = ['sees', 'follows', 'helps', 'calls', 'finds', 'watches', 'greets', 'chases'];
const VERBS_I = ['sleeps', 'sings', 'runs', 'waits', 'laughs', 'dances', 'rests', 'wanders'];
const ADVERBS = ['slowly', 'quickly', 'happily', 'quietly', 'again', 'at dawn', 'at night', 'all day'];
const PREPS = ['near', 'behind', 'across', 'beside', 'under', 'beyond'];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function nounPhrase(rng: Rng): string {
  const noun = rng.uniform() < 0.6 ? pick(rng, ANIMALS) : pick(rng, PEOPLE);
  return rng.uniform() < 0.5 ? `the ${pick(rng, ADJECTIVES)} ${noun}` : `the ${noun}`;
}

function clause(rng: Rng): string {
  const r = rng.uniform();
  if (r < 0.4) return `${nounPhrase(rng)} ${pick(rng, VERBS_T)} ${nounPhrase(rng)}`;
  if (r < 0.7) return `${nounPhrase(rng)} ${pick(rng, VERBS_I)} ${pick(rng, ADVERBS)}`;
  return `${nounPhrase(rng)} ${pick(rng, VERBS_I)} ${pick(rng, PREPS)} ${pick(rng, PLACES)}`;
}

function sentence(rng: Rng): string {
  const r = rng.uniform();
  let s: string;
  if (r < 0.55) s = `${clause(rng)}.`;
  else if (r < 0.8) s = `${clause(rng)}, and ${clause(rng)}.`;
  else if (r < 0.9) s = `when ${clause(rng)}, ${clause(rng)}.`;
  else s = `does ${nounPhrase(rng)} ${pick(rng, VERBS_T).replace(/s$/, '').replace(/che$/, 'ch')} ${nounPhrase(rng)}?`;
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Generates the corpus text.
 * @param bytes - Approximate length in characters (default 48000).
 * @param seed - Generator seed (default 7).
 * @returns Paragraphs of grammar sentences separated by blank lines.
 */
export function grammarCorpus(bytes = 48000, seed = 7): string {
  const rng = new Rng(seed);
  const paragraphs: string[] = [];
  let length = 0;
  while (length < bytes) {
    const n = 3 + rng.int(4);
    const p: string[] = [];
    for (let i = 0; i < n; i++) p.push(sentence(rng));
    const text = p.join(' ');
    paragraphs.push(text);
    length += text.length + 2;
  }
  return paragraphs.join('\n\n') + '\n';
}
