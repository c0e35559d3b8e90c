import { type Fixture, parseFixture } from './fixture.js';

/** What a `given` input names: a model or seed, a source table, or the model's own table. */
export type InputTarget =
  | { kind: 'ref'; name: string }
  | { kind: 'source'; source: string; table: string }
  | { kind: 'this' };

/** One `given` entry as declared. */
export interface UnitTestGiven {
  /** As written, normalised: `ref('stg_orders')`, `source('raw', 'orders')`, `this`. */
  input: string;
  target: InputTarget;
  fixture: Fixture;
}

/** A `unit_tests:` entry of a properties file (dbt ≥ 1.8), before compilation. */
export interface UnitTestDeclaration {
  name: string;
  model: string;
  file: string;
  description?: string;
  given: UnitTestGiven[];
  expect: Fixture;
  overrides: {
    /** Macro name → the value the macro returns (`is_incremental: true`). */
    macros: Record<string, unknown>;
    vars: Record<string, unknown>;
    envVars: Record<string, string>;
  };
  tags: string[];
  enabled: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const QUOTED = `\\s*(?:'([^']*)'|"([^"]*)")\\s*`;
const REF = new RegExp(`^ref\\(${QUOTED}(?:,${QUOTED})?(?:,\\s*v(?:ersion)?\\s*=\\s*[^)]*)?\\)$`);
const SOURCE = new RegExp(`^source\\(${QUOTED},${QUOTED}\\)$`);

/**
 * Reads a `given` input: `ref('x')` (also `ref('package', 'x')`), `source('a', 'b')` or `this`.
 *
 * @example
 * parseInputTarget("source('raw', 'orders')"); // { kind: 'source', source: 'raw', table: 'orders' }
 */
export function parseInputTarget(input: string): InputTarget | undefined {
  const text = input.trim();
  if (text === 'this') return { kind: 'this' };
  const ref = REF.exec(text);
  if (ref) {
    const second = ref[3] ?? ref[4];
    return { kind: 'ref', name: second ?? ((ref[1] ?? ref[2]) as string) };
  }
  const source = SOURCE.exec(text);
  if (source)
    return {
      kind: 'source',
      source: (source[1] ?? source[2]) as string,
      table: (source[3] ?? source[4]) as string,
    };
  return undefined;
}

const inputText = (t: InputTarget) =>
  t.kind === 'this' ? 'this' : t.kind === 'ref' ? `ref('${t.name}')` : `source('${t.source}', '${t.table}')`;

/** Reads `fixture: name` files: the CSV or SQL text of `<test path>/fixtures/<name>.<csv|sql>`. */
export type FixtureReader = (name: string) => { format: 'csv' | 'sql'; text: string } | undefined;

function fixtureOf(
  entry: Record<string, unknown>,
  readFixture: FixtureReader | undefined,
): { fixture?: Fixture; problem?: string } {
  if (entry.fixture === undefined) return parseFixture(entry);
  if (typeof entry.fixture !== 'string')
    return { problem: 'fixture must be the name of a file in tests/fixtures' };
  const found = readFixture?.(entry.fixture);
  if (!found)
    return {
      problem: `fixture ${entry.fixture}: no fixtures/${entry.fixture}.csv or .sql under the test paths`,
    };
  return parseFixture({ format: found.format, rows: found.text });
}

function overridesOf(value: unknown, problem: (m: string) => void): UnitTestDeclaration['overrides'] {
  const out: UnitTestDeclaration['overrides'] = { macros: {}, vars: {}, envVars: {} };
  if (value === undefined || value === null) return out;
  if (!isRecord(value)) {
    problem('overrides must be a mapping of macros, vars and env_vars');
    return out;
  }
  for (const [key, target] of [
    ['macros', 'macros'],
    ['vars', 'vars'],
    ['env_vars', 'envVars'],
  ] as const) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (!isRecord(v)) problem(`overrides.${key} must be a mapping`);
    else if (target === 'envVars')
      out.envVars = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    else out[target] = { ...v };
  }
  return out;
}

/**
 * Parses the `unit_tests:` list of one properties file (dbt ≥ 1.8 format). Every problem is
 * returned with the test's name; a test with problems is left out.
 *
 * @example
 * parseUnitTests([{ name: 't', model: 'orders', given: [{ input: "ref('stg_orders')", rows: [{ id: 1 }] }], expect: { rows: [{ id: 1 }] } }], 'models/schema.yml');
 * // { unitTests: [{ name: 't', model: 'orders', given: [{ input: "ref('stg_orders')", ... }], ... }], problems: [] }
 */
export function parseUnitTests(
  list: unknown,
  file: string,
  readFixture?: FixtureReader,
): { unitTests: UnitTestDeclaration[]; problems: string[] } {
  const unitTests: UnitTestDeclaration[] = [];
  const problems: string[] = [];
  if (list === undefined || list === null) return { unitTests, problems };
  if (!Array.isArray(list)) return { unitTests, problems: ['unit_tests: must be a list'] };
  for (const entry of list) {
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      problems.push('unit_tests: every entry needs a name');
      continue;
    }
    const mine: string[] = [];
    const problem = (m: string) => mine.push(`unit test ${entry.name}: ${m}`);
    if (typeof entry.model !== 'string') problem('model is required (the name of the model under test)');
    const given: UnitTestGiven[] = [];
    if (entry.given !== undefined && !Array.isArray(entry.given)) problem('given must be a list of inputs');
    for (const g of Array.isArray(entry.given) ? entry.given : []) {
      const target = isRecord(g) && typeof g.input === 'string' ? parseInputTarget(g.input) : undefined;
      if (!isRecord(g) || !target) {
        problem(
          `given: input must be ref('name'), source('source', 'table') or this, got ${JSON.stringify(isRecord(g) ? g.input : g)}`,
        );
        continue;
      }
      const { fixture, problem: bad } = fixtureOf(g, readFixture);
      if (bad || !fixture) problem(`given ${g.input}: ${bad}`);
      else given.push({ input: inputText(target), target, fixture });
    }
    const expected = isRecord(entry.expect)
      ? fixtureOf(entry.expect, readFixture)
      : { problem: 'expect is required (rows the model returns)' };
    if (expected.problem) problem(`expect: ${expected.problem}`);
    const overrides = overridesOf(entry.overrides, problem);
    const config = isRecord(entry.config) ? entry.config : {};
    const tags =
      typeof config.tags === 'string'
        ? [config.tags]
        : Array.isArray(config.tags)
          ? config.tags.map(String)
          : [];
    problems.push(...mine);
    if (mine.length > 0 || !expected.fixture) continue;
    unitTests.push({
      name: entry.name,
      model: entry.model as string,
      file,
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      given,
      expect: expected.fixture,
      overrides,
      tags,
      enabled: config.enabled !== false,
    });
  }
  return { unitTests, problems };
}
