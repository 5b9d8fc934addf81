/**
 * Checks on the SVG files the command line writes.
 */
import { expect } from 'vitest';

/** The SVG is well formed: an XML declaration, one svg root, every tag closed in order, numbers finite. */
export function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  for (const m of svg.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  // Text is escaped: no raw '&' that is not an entity.
  expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
}
