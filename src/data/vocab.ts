/**
 * Character vocabularies for character-level language models: a fixed,
 * ordered list of characters and the id of each.
 *
 * A "character" is a Unicode code point (so an emoji or an astral-plane
 * letter is one symbol, not two UTF-16 halves).
 */
import { describe, rangeError, typeError } from '../errors.js';

/** A character vocabulary: `chars[id]` is the character with that id. */
export interface CharVocab {
  /** The characters, in id order. */
  readonly chars: readonly string[];
  /** Number of characters (ids are 0..size-1). */
  readonly size: number;
  /** The id of every character of `text`; a character not in the vocabulary is a RangeError naming it and its position. */
  encode(text: string): Int32Array;
  /** The text of a sequence of ids; an id outside 0..size-1 is a RangeError naming it and its position. */
  decode(ids: ArrayLike<number>): string;
  /** The id of one character, or -1 if it is not in the vocabulary. */
  idOf(char: string): number;
}

/**
 * Builds the vocabulary of a text: its distinct characters sorted by code
 * point, so the same text always gives the same ids.
 *
 * @param text - A non-empty string.
 * @returns The vocabulary.
 * @throws TypeError for a non-string, RangeError for an empty string.
 */
export function charVocab(text: string): CharVocab {
  if (typeof text !== 'string') throw typeError('text', 'a non-empty string', text);
  if (text.length === 0) throw rangeError('text', 'a non-empty string', describe(text));
  const unique = [...new Set(Array.from(text))];
  // Sort by code point, not by UTF-16 unit (the default sort), so astral characters order by value.
  unique.sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
  return vocabFromChars(unique);
}

/**
 * Rebuilds a vocabulary from its `chars` (e.g. stored with a model), keeping
 * their order.
 *
 * @param chars - Distinct single characters (code points), at least one.
 * @returns The vocabulary.
 * @throws TypeError / RangeError for a non-array, an empty list, an entry that is not one character, or a repeat.
 */
export function vocabFromChars(chars: readonly string[]): CharVocab {
  if (!Array.isArray(chars)) throw typeError('chars', 'an array of single characters', chars);
  if (chars.length === 0) throw rangeError('chars', 'at least one character', chars);
  const index = new Map<string, number>();
  chars.forEach((c: unknown, i) => {
    if (typeof c !== 'string') throw typeError(`chars[${i}]`, 'a single character', c);
    if (Array.from(c).length !== 1) throw rangeError(`chars[${i}]`, 'a single character (one code point)', describe(c));
    if (index.has(c)) throw rangeError(`chars[${i}]`, 'a character not listed before', `${describe(c)}, also chars[${index.get(c)}]`);
    index.set(c, i);
  });
  const list = Object.freeze([...chars]);
  return Object.freeze({
    chars: list,
    size: list.length,
    idOf(char: string): number {
      return index.get(char) ?? -1;
    },
    encode(text: string): Int32Array {
      if (typeof text !== 'string') throw typeError('text', 'a string', text);
      const cps = Array.from(text);
      const out = new Int32Array(cps.length);
      for (let i = 0; i < cps.length; i++) {
        const id = index.get(cps[i]);
        if (id === undefined) throw rangeError(`text[${i}]`, 'a character of the vocabulary', `${describe(cps[i])} at position ${i}`);
        out[i] = id;
      }
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
        throw typeError('ids', 'an Int32Array or an array of ids', ids);
      }
      let s = '';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= list.length) {
          throw rangeError(`ids[${i}]`, `an id in 0..${list.length - 1}`, describe(id));
        }
        s += list[id];
      }
      return s;
    },
  });
}
