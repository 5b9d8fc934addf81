/**
 * Data helpers: vocabularies, dataset builders, batching (example-major to
 * time-major), splitting and seeded shuffling, on small worked examples.
 */
import { describe, expect, it } from 'vitest';
import {
  batchIndices,
  batchOf,
  charDataset,
  charVocab,
  checkDataset,
  chronologicalSplit,
  datasetSize,
  padIds,
  padSequences,
  shuffleDataset,
  shuffledIndices,
  slidingWindows,
  subset,
  vocabFromChars,
  type SequenceDataset,
} from '../src/data/index.js';
import { Rng } from '../src/random.js';

const ints = (a: ArrayLike<number>): number[] => Array.from(a);

describe('charVocab', () => {
  it('lists the distinct characters sorted by code point, and round-trips text', () => {
    const v = charVocab('hello world');
    expect(v.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(v.size).toBe(8);
    expect(ints(v.encode('hello'))).toEqual([3, 2, 4, 4, 5]);
    expect(v.decode(v.encode('hello world'))).toBe('hello world');
    expect(v.decode([7, 5])).toBe('wo');
    expect(v.idOf('z')).toBe(-1);
    expect(charVocab('dlrow olleh').chars).toEqual(v.chars);
  });

  it('treats an astral character as one symbol and sorts it by code point', () => {
    const v = charVocab('b😀a\uffff');
    expect(v.chars).toEqual(['a', 'b', '\uffff', '😀']);
    expect(ints(v.encode('😀a'))).toEqual([3, 0]);
  });

  it('vocabFromChars keeps the given order', () => {
    const v = vocabFromChars(['z', 'a']);
    expect(ints(v.encode('az'))).toEqual([1, 0]);
  });

  it('refuses bad input', () => {
    expect(() => charVocab('')).toThrow(new RangeError('Expected a non-empty string for text but received ""'));
    expect(() => charVocab(3 as unknown as string)).toThrow(new TypeError('Expected a non-empty string for text but received 3'));
    expect(() => vocabFromChars(['a', 'a'])).toThrow(new RangeError('Expected a character not listed before for chars[1] but received "a", also chars[0]'));
    expect(() => vocabFromChars(['ab'])).toThrow(new RangeError('Expected a single character (one code point) for chars[0] but received "ab"'));
    expect(() => vocabFromChars([])).toThrow(RangeError);
    const v = charVocab('ab');
    expect(() => v.encode('abc')).toThrow(new RangeError('Expected a character of the vocabulary for text[2] but received "c" at position 2'));
    expect(() => v.decode([0, 2])).toThrow(new RangeError('Expected an id in 0..1 for ids[1] but received 2'));
    expect(() => v.decode('ab' as unknown as number[])).toThrow(TypeError);
  });
});

describe('charDataset', () => {
  it('builds next-character windows', () => {
    const v = charVocab('abcdefg');
    const d = charDataset('abcdefg', v, { seqLen: 3 });
    expect(d.x.shape).toEqual([2, 3]);
    expect(ints(d.x.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ints(d.y.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const s = charDataset('abcdefg', v, { seqLen: 3, stride: 2 });
    expect(s.x.shape).toEqual([2, 3]);
    expect(ints(s.x.data)).toEqual([0, 1, 2, 2, 3, 4]);
    expect(ints(s.y.data)).toEqual([1, 2, 3, 3, 4, 5]);
    expect(checkDataset('d', s).target).toBe('classPerStep');
  });

  it('refuses bad input', () => {
    const v = charVocab('abc');
    expect(() => charDataset('abc', v, { seqLen: 3 })).toThrow(new RangeError('Expected at least seqLen + 1 = 4 characters for text but received 3 characters'));
    expect(() => charDataset('abc', v, { seqLen: 0 })).toThrow(new RangeError('Expected an integer in 1..2147483647 for options.seqLen but received 0'));
    expect(() => charDataset('abc', v, { seqLen: 1, step: 1 } as never)).toThrow(RangeError);
    expect(() => charDataset('abc', {} as never, { seqLen: 1 })).toThrow(new TypeError('Expected a CharVocab (from charVocab) for vocab but received an object (Object)'));
  });
});

describe('slidingWindows', () => {
  it("seq-to-one ('last') windows with a horizon", () => {
    const d = slidingWindows([0, 1, 2, 3, 4, 5], { window: 3, horizon: 2 });
    expect(d.x.shape).toEqual([2, 3, 1]);
    expect(ints(d.x.data)).toEqual([0, 1, 2, 1, 2, 3]);
    expect(d.y.shape).toEqual([2, 2]);
    expect(ints(d.y.data)).toEqual([3, 4, 4, 5]);
  });

  it("seq-to-seq ('sequence') windows", () => {
    const d = slidingWindows(new Float32Array([0, 1, 2, 3, 4, 5]), { window: 3, target: 'sequence' });
    expect(d.y.shape).toEqual([3, 3, 1]);
    expect(ints(d.y.data)).toEqual([1, 2, 3, 2, 3, 4, 3, 4, 5]);
    expect(checkDataset('d', d).target).toBe('valuePerStep');
  });

  it('handles a [len, F] matrix, stride and target features', () => {
    const rows = [[0, 10], [1, 11], [2, 12], [3, 13], [4, 14]];
    const d = slidingWindows(rows, { window: 2, stride: 2, targetFeatures: [1] });
    expect(d.x.shape).toEqual([2, 2, 2]);
    expect(ints(d.x.data)).toEqual([0, 10, 1, 11, 2, 12, 3, 13]);
    expect(ints(d.y.data)).toEqual([12, 14]);
    const t = slidingWindows({ data: new Float32Array(rows.flat()), shape: [5, 2] }, { window: 2, stride: 2 });
    expect(ints(t.y.data)).toEqual([2, 12, 4, 14]);
  });

  it('refuses bad input', () => {
    expect(() => slidingWindows([1, 2], { window: 2 })).toThrow(new RangeError('Expected at least window + horizon = 3 steps for series but received 2 steps'));
    expect(() => slidingWindows([1, 2, 3], { window: 1, target: 'all' as never })).toThrow(new RangeError(`Expected one of 'last', 'sequence' for options.target but received "all"`));
    expect(() => slidingWindows([[1, 2], [3]], { window: 1 })).toThrow(RangeError);
    expect(() => slidingWindows('abc' as never, { window: 1 })).toThrow(TypeError);
    expect(() => slidingWindows([1, 2, 3], { window: 1, targetFeatures: [1] })).toThrow(new RangeError('Expected an integer in 0..0 for options.targetFeatures[0] but received 1'));
  });
});

describe('padSequences / padIds', () => {
  it('pads to the longest sequence and records lengths', () => {
    const p = padSequences([new Float32Array([1, 2, 3, 4]), [5, 6]], 2);
    expect(p.x.shape).toEqual([2, 2, 2]);
    expect(ints(p.x.data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0]);
    expect(ints(p.seqLengths)).toEqual([2, 1]);
    const q = padIds([[1, 2, 3], new Int32Array([4])], -100);
    expect(q.x.shape).toEqual([2, 3]);
    expect(ints(q.x.data)).toEqual([1, 2, 3, 4, -100, -100]);
    expect(ints(q.seqLengths)).toEqual([3, 1]);
  });

  it('refuses bad input', () => {
    expect(() => padSequences([[1, 2, 3]], 2)).toThrow(new RangeError('Expected a positive multiple of F = 2 values for seqs[0] but received 3 values'));
    expect(() => padSequences([], 1)).toThrow(new RangeError('Expected at least one sequence for seqs but received an array of length 0'));
    expect(() => padSequences([[1]], 0)).toThrow(RangeError);
    expect(() => padIds([[1.5]])).toThrow(new RangeError('Expected an integer id for seqs[0][0] but received 1.5'));
    expect(() => padIds([[]])).toThrow(RangeError);
  });
});

/** 3 sequences of 4 steps, 2 features; values encode (n, t, f). */
function tiny(): SequenceDataset {
  const x = new Float32Array(3 * 4 * 2).map((_, i) => i);
  const y = new Int32Array(12).map((_, i) => i);
  return { x: { data: x, shape: [3, 4, 2] }, y: { data: y, shape: [3, 4] }, seqLengths: new Int32Array([4, 2, 3]) };
}

describe('batchOf', () => {
  it('gathers examples time-major and trims to the longest selected sequence', () => {
    const b = batchOf(tiny(), [2, 1]);
    // Longest of lengths 3 and 2: T = 3.
    expect(b.x.shape).toEqual([3, 2, 2]);
    // t=0: example 2 (16,17), example 1 (8,9); t=1: (18,19),(10,11); t=2: (20,21),(12,13)
    expect(ints(b.x.data)).toEqual([16, 17, 8, 9, 18, 19, 10, 11, 20, 21, 12, 13]);
    expect(b.y.shape).toEqual([3, 2]);
    expect(ints(b.y.data)).toEqual([8, 4, 9, 5, 10, 6]);
    expect(ints(b.seqLengths as Int32Array)).toEqual([3, 2]);
  });

  it('drops seqLengths when every selected sequence is full', () => {
    const b = batchOf(tiny(), [0]);
    expect(b.seqLengths).toBeNull();
    expect(b.x.shape).toEqual([4, 1, 2]);
  });

  it('handles per-sequence targets and id inputs', () => {
    const d: SequenceDataset = { x: { data: new Int32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] }, y: { data: new Float32Array([0.5, 1.5, 2.5]), shape: [3, 1] } };
    const b = batchOf(d, [2, 0]);
    expect(b.x.shape).toEqual([2, 2]);
    expect(ints(b.x.data)).toEqual([5, 1, 6, 2]);
    expect(b.x.data).toBeInstanceOf(Int32Array);
    expect(Array.from(b.y.data)).toEqual([2.5, 0.5]);
    expect(b.y.shape).toEqual([2, 1]);
    expect(checkDataset('d', d).target).toBe('valuePerSequence');
  });

  it('refuses bad input', () => {
    expect(() => batchOf(tiny(), [3])).toThrow(new RangeError('Expected an index in 0..2 for indices[0] but received 3'));
    expect(() => batchOf(tiny(), [])).toThrow(new RangeError('Expected at least one index for indices but received an array of length 0'));
    const bad = { ...tiny(), y: { data: new Int32Array(3), shape: [3, 1] } };
    expect(() => batchOf(bad, [0])).toThrow(new RangeError('Expected [3, 4] or [3] (class ids for x of shape [3, 4, 2]) for data.y.shape but received [3, 1]'));
    expect(() => batchOf({ ...tiny(), seqLengths: new Int32Array([1, 5, 1]) }, [0])).toThrow(new RangeError('Expected a length in 1..4 for data.seqLengths[1] but received 5'));
    expect(() => batchOf({ ...tiny(), extra: 1 } as never, [0])).toThrow(RangeError);
  });
});

describe('subset / chronologicalSplit / datasetSize', () => {
  it('splits in time order', () => {
    const { train, validation } = chronologicalSplit(tiny(), 0.67);
    expect(datasetSize(train)).toBe(2);
    expect(datasetSize(validation)).toBe(1);
    expect(ints(validation.x.data)).toEqual(ints(tiny().x.data.subarray(16)));
    expect(ints(train.seqLengths as Int32Array)).toEqual([4, 2]);
    expect(ints(subset(tiny(), [2]).y.data)).toEqual([8, 9, 10, 11]);
  });

  it('refuses bad input', () => {
    expect(() => chronologicalSplit(tiny(), 0.1)).toThrow(new RangeError('Expected a fraction leaving both parts of the 3 examples non-empty for fraction but received 0.1 (0 for training)'));
    expect(() => chronologicalSplit(tiny(), 2)).toThrow(new RangeError('Expected a number in [0, 1] for fraction but received 2'));
    expect(() => subset(tiny(), [0.5])).toThrow(RangeError);
    expect(() => datasetSize(null as never)).toThrow(new TypeError('Expected a SequenceDataset { x, y, seqLengths? } for data but received null'));
  });
});

describe('seeded shuffling', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = shuffledIndices(20, 7);
    expect(shuffledIndices(20, 7)).toEqual(a);
    expect(shuffledIndices(20, new Rng(7))).toEqual(a);
    expect(shuffledIndices(20, 8)).not.toEqual(a);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // A generator continues: two draws from one generator differ.
    const g = new Rng(7);
    expect(shuffledIndices(20, g)).toEqual(a);
    expect(shuffledIndices(20, g)).not.toEqual(a);
  });

  it('shuffleDataset and batchIndices follow the same permutation', () => {
    const order = shuffledIndices(3, 5);
    const s = shuffleDataset(tiny(), 5);
    expect(ints(s.seqLengths as Int32Array)).toEqual(order.map((i) => [4, 2, 3][i]));
    const b = batchIndices(3, { batchSize: 2, shuffle: true, rng: 5 });
    expect(b.map(ints)).toEqual([order.slice(0, 2), order.slice(2)]);
    expect(batchIndices(5, { batchSize: 2 }).map(ints)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('refuses bad input', () => {
    expect(() => shuffledIndices(3, 'x' as never)).toThrow(new TypeError('Expected a seed (integer) or an Rng for rng but received "x"'));
    expect(() => shuffledIndices(-1, 1)).toThrow(RangeError);
    expect(() => shuffleDataset(tiny(), -1)).toThrow(RangeError);
    expect(() => batchIndices(3, { batchSize: 2, shuffle: true })).toThrow(new RangeError('Expected a seed or an Rng when shuffle is true for options.rng but received undefined'));
    expect(() => batchIndices(3, { batchSize: 0 })).toThrow(RangeError);
  });
});
