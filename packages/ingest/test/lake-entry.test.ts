import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as entry from '../src/index.js';
import * as lake from '../src/lake-entry.js';

// `@dataflow/ingest/lake` is what `dataflow load` imports (issue 13): the reading side of the lake
// without the ingestion half and without zod, whose start-up every load would pay.

const srcDir = new URL('../src/', import.meta.url);

/** Relative modules and packages `file` imports at run time (type-only imports are erased). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(new URL(file, srcDir), 'utf8');
  const specifiers: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)';/gms))
    if (m[1] === undefined) specifiers.push(m[2] as string);
  return specifiers;
}

/** Every module and package reachable from `file` through run-time imports. */
function importGraph(file: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string) => {
    if (modules.has(f)) return;
    modules.add(f);
    for (const s of runtimeImports(f)) {
      if (s.startsWith('./')) visit(s.slice(2).replace(/\.js$/, '.ts'));
      else if (!s.startsWith('node:')) packages.add(s);
    }
  };
  visit(file);
  return { modules, packages };
}

describe('@dataflow/ingest/lake', () => {
  it('imports neither zod, csv-parse nor the CSV / API ingestion modules', () => {
    const { modules, packages } = importGraph('lake-entry.ts');
    expect([...packages]).toEqual([]);
    expect(
      [...modules].filter((m) => /^(ingest-|api-|csv-|oauth2|pagination|attempt-record)/.test(m)),
    ).toEqual([]);
    // The walk sees what it should: the manifest reader and both stores.
    expect(modules).toContain('manifest.ts');
    expect(modules).toContain('fs-store.ts');
    expect(modules).toContain('s3-store.ts');
  });

  it('the walk does find zod behind the package entry (so the check above can fail)', () => {
    expect(importGraph('index.ts').packages).toContain('zod');
  });

  it('exports the very same values as the package entry', () => {
    const exported = new Map(Object.entries(entry));
    for (const [name, value] of Object.entries(lake)) expect(exported.get(name), name).toBe(value);
  });
});
