/**
 * The text E1 trains on: a real English text of at least 1 MB, available offline.
 *
 * Default: the English fortune-cookie collection of Debian's `fortunes` package
 * (`apt-get install fortunes`; /usr/share/games/fortunes, 2.6 MB of quotations, jokes, poems
 * and definitions), its plain-text files concatenated in name order (the `.dat` indexes, the
 * `.u8` duplicates and `ascii-art` left out). `--text <file>` uses any other file instead.
 * The text is written to bench/out/e1_text.txt so that the PyTorch twin reads exactly the
 * same characters.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './spawn.js';

/** Where the fortunes package puts its files. */
export const FORTUNES_DIR = '/usr/share/games/fortunes';

/** The smallest text E1 accepts, bytes (BENCHMARKS.md: ≥ 1 MB). */
export const MIN_TEXT_BYTES = 1_000_000;

/** The text, where it came from, and the file holding exactly it (for the PyTorch twin). */
export interface E1Text {
  text: string;
  source: string;
  path: string;
  bytes: number;
}

/**
 * Reads `file`, or assembles the default text from the fortunes package.
 *
 * @throws Error saying what to install or pass when there is no text of ≥ 1 MB.
 */
export function e1Text(file?: string): E1Text {
  let text: string;
  let source: string;
  if (file !== undefined) {
    text = readFileSync(file, 'utf8');
    source = file;
  } else {
    if (!existsSync(FORTUNES_DIR)) {
      throw new Error(`E1 needs a real text of >= 1 MB: install Debian's fortunes package (apt-get install fortunes) or pass --text <file>`);
    }
    const names = readdirSync(FORTUNES_DIR)
      .filter((n) => !n.endsWith('.dat') && !n.endsWith('.u8') && n !== 'ascii-art' && lstatSync(join(FORTUNES_DIR, n)).isFile())
      .sort();
    text = names.map((n) => readFileSync(join(FORTUNES_DIR, n), 'utf8')).join('');
    source = `${FORTUNES_DIR} (Debian fortunes: ${names.length} files concatenated in name order, without ascii-art)`;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < MIN_TEXT_BYTES) throw new Error(`E1 needs a text of >= 1 MB; ${source} has ${bytes} bytes`);
  const out = join(BENCH_DIR, 'out');
  mkdirSync(out, { recursive: true });
  const path = join(out, 'e1_text.txt');
  writeFileSync(path, text);
  return { text, source, path, bytes };
}
