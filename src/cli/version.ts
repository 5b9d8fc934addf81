/** The package version, read without loading the native addon. */
import { readFileSync } from 'node:fs';

/** The package's version, from its package.json (two levels above src/cli/ and dist/cli/). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
