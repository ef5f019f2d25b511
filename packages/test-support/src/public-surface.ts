import { readFileSync } from 'node:fs';

/**
 * The names a package's `src/index.ts` exports, sorted: values as `Name`, types as `type Name`.
 * Reads the file's `export { ... } from` and `export type { ... } from` statements (the style rule
 * allows no other kind of export in an index).
 */
export function publicSurface(indexPath: string): string[] {
  const source = readFileSync(indexPath, 'utf8');
  const names: string[] = [];
  for (const match of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    const typeOnly = match[1] !== undefined;
    for (const raw of match[2]!.split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const inlineType = item.startsWith('type ');
      const name = (inlineType ? item.slice(5) : item).split(/\s+as\s+/).pop()!.trim();
      names.push(typeOnly || inlineType ? `type ${name}` : name);
    }
  }
  return names.sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')));
}

/** The reviewed list kept in a fixture file: one name a line, `#` comments and blank lines ignored. */
export function reviewedSurface(listPath: string): string[] {
  return readFileSync(listPath, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
