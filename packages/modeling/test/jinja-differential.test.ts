import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Environment } from '../src/jinja/environment.js';
import { pyJsonLoads } from '../src/jinja/json.js';

const CORPUS = join(import.meta.dirname, 'jinja-corpus');
/** Templates that corpus cases include, import and extend, by file name. */
const TEMPLATES: Record<string, string> = Object.fromEntries(
  readdirSync(join(CORPUS, 'templates'))
    .sort()
    .map((f) => [f, readFileSync(join(CORPUS, 'templates', f), 'utf8')]),
);
/** Values every corpus template may read, given to both engines as the same JSON. */
const CONTEXT = {
  users: [
    { name: 'ann', age: 31, team: 'b', active: true },
    { name: 'Bob', age: 25, team: 'a', active: false },
    { name: 'cid', age: 40, team: 'b', active: true },
  ],
  config: { materialized: 'table', tags: ['daily', 'core'], enabled: true, threshold: 0.5 },
  columns: ['id', 'amount', 'created_at'],
  empty: [],
  text: 'Hello, World',
  n: 7,
  f: 2.5,
  nothing: null,
};

interface Case {
  name: string;
  source: string;
}

/** Corpus files hold cases separated by `=== name` lines; a case's text excludes the newline before the next separator. */
function readCorpus(): Case[] {
  const cases: Case[] = [];
  for (const file of readdirSync(CORPUS)
    .filter((f) => f.endsWith('.jinja'))
    .sort()) {
    const text = readFileSync(join(CORPUS, file), 'utf8');
    const parts = text.split(/^=== (.+)\n/m);
    for (let i = 1; i < parts.length; i += 2) {
      cases.push({ name: `${file}:${parts[i]}`, source: (parts[i + 1] ?? '').replace(/\n$/, '') });
    }
  }
  return cases;
}

type Outcome = { out: string } | { error: string };

function renderWithPython(cases: Case[]): Record<string, Outcome> | undefined {
  const result = spawnSync('python3', [join(CORPUS, 'render.py')], {
    input: JSON.stringify({ context: CONTEXT, templates: TEMPLATES, cases }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    if (/No module named 'jinja2'/.test(result.stderr) || result.error) return undefined;
    throw new Error(`render.py failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as Record<string, Outcome>;
}

function renderWithOurs(c: Case): Outcome {
  const env = new Environment();
  env.loader = (name) => (Object.hasOwn(TEMPLATES, name) ? TEMPLATES[name] : undefined);
  try {
    return { out: env.renderString(c.source, c.name, pyJsonLoads(JSON.stringify(CONTEXT)) as never) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

const cases = readCorpus();
const python = renderWithPython(cases);
const skip = process.env.DATAFLOW_SKIP_PY_JINJA === '1';

describe('Jinja differential corpus against Python Jinja2', () => {
  it('has python3 with jinja2 (install python3-jinja2; DATAFLOW_SKIP_PY_JINJA=1 skips this suite)', () => {
    if (skip) return;
    expect(python, 'python3 -c "import jinja2" failed: install python3-jinja2').toBeDefined();
  });

  it('holds at least 150 templates', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it.skipIf(skip || !python).each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const expected = (python as Record<string, Outcome>)[c.name] as Outcome;
    const actual = renderWithOurs(c);
    if ('error' in expected) expect(actual, `Jinja2 raised ${expected.error}`).toHaveProperty('error');
    else expect(actual).toEqual(expected);
  });
});
