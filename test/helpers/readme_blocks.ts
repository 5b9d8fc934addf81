/**
 * The README's TypeScript / JavaScript code blocks, as written, for the tests that run them
 * (readme_examples.test.ts) and type-check them against the published declarations
 * (consumer_types.test.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One fenced ```ts / ```js block of the README. */
export interface ReadmeBlock {
  /** The nearest heading above it. */
  readonly heading: string;
  /** Its line in README.md (1-based, the opening fence). */
  readonly line: number;
  /** The code, as written (indentation of a block inside a list item removed). */
  readonly code: string;
}

/** Every ```ts, ```typescript, ```js and ```javascript block of README.md, in order. */
export function readmeBlocks(): ReadmeBlock[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1];
    const open = /^(\s*)```(ts|typescript|js|javascript)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
    blocks.push({ heading, line: i + 1, code: body.join('\n') });
    i = j;
  }
  return blocks;
}
