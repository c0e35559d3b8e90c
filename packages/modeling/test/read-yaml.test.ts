import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readYaml, yamlErrorLine } from '../src/read-yaml.js';

const jaffle = join(import.meta.dirname, '..', 'examples', 'jaffle_shop');

/** The generated schema.yml of bench/modeling/compile-bench.ts (two models). */
const benchYml = [
  'version: 2',
  'models:',
  '  - name: m_0000',
  '    columns:',
  '      - name: id',
  '        data_tests: [unique, not_null]',
  '      - name: kind',
  '        data_tests:',
  '          - accepted_values:',
  '              values: [0, 1, 2, 3]',
  '              quote: false',
  '  - name: m_0001',
  '    description: Orders, one row per order (see [docs]) #1',
  '    config: { materialized: table }',
].join('\n');

// Block-style texts as dbt projects write them.
const inSubset: Record<string, string> = {
  bench: benchYml.split('\n').slice(0, 12).join('\n'),
  'same-indent sequences and comments': [
    '# header',
    'models:',
    '- name: a   ',
    '  description: "quoted: with colon"',
    '  columns:',
    '  - name: id',
    '    # a comment line',
    '    tests:',
    '    - unique',
    '    -   not_null',
    '  -',
    '    name: b',
    '    nothing:',
    'sources:',
    "  - name: 'raw'",
    '    tables: []',
    '    flags: [True, FALSE, null, Null, a b, "q"]',
    '    n: [0, 10, 123456789012345]',
    '    strs: [yes, no, on, NaN]',
    '    colon: a:b',
    '    hash: x#y',
    '    empty: ""',
    '    dash_in_value: a - b',
  ].join('\n'),
  'nested bare dash items': ['list:', '  -', '  - - no', 'x: 1'].join('\n').replace('  - - no', '  - 2'),
  'empty values': ['a:', 'b: ~', 'c: NULL', 'd:', '  e:'].join('\n'),
  'dbt project file': [
    'name: bench',
    "version: '0.1'",
    'model-paths: ["models"]',
    'models:',
    '  bench:',
    '    +materialized: table',
    '    staging:',
    '      materialized: view',
    '      +tags: [a, b]',
  ].join('\n'),
};

// The rest of YAML that properties files may use.
const outside: Record<string, string> = {
  anchors: 'a: &x 1\nb: *x\n',
  tags: 'a: !!str 1\n',
  'block scalar': 'a: |\n  text\n',
  'folded scalar': 'a: >-\n  text\n',
  'flow map': 'config: { materialized: table }\n',
  'tilde-prefixed scalar': 'a: ~x\n',
  'trailing comment': 'a: b # c\n',
  'multi-line plain scalar': 'a: one\n  two\n',
  tabs: 'a:\n\tb: 1\n',
  floats: 'a: 1.5\n',
  'signed int': 'a: -1\n',
  'leading zero': 'a: 007\n',
  hex: 'a: 0x1F\n',
  'escaped quote': "a: 'it''s'\n",
  'double-quoted escape': 'a: "tab\\t"\n',
  'quoted with comma in flow': "a: ['x, y']\n",
  'nested flow': 'a: [[1]]\n',
  'document marker': '---\na: 1\n',
  'special key': 'true: 1\n',
  'proto key': '__proto__: 1\n',
  'bad indentation': 'a:\n    b: 1\n  c: 2\n',
  'scalar root': 'just text\n',
  'empty document': '# nothing\n',
  'key with space': 'a b: 1\n',
  'signed numeric key': '+1: x\n',
  'crlf line ends': 'a: 1\r\nb: 2\r\n',
  'unterminated quote': "a: 'x\n",
  'sequence after scalar value': 'a: b\n- c\n',
  'compact nested sequence': 'a:\n  - - b\n',
  'map in flow sequence': 'a: [b: c]\n',
  'trailing flow comma': 'a: [b, ]\n',
};

/** js-yaml (what compile uses) must read every text exactly as the `yaml` package does, or fail where it fails. */
function expectSameAsYamlPackage(text: string): void {
  let expected: unknown;
  try {
    expected = parse(text);
  } catch {
    expect(() => readYaml(text)).toThrow();
    return;
  }
  expect(readYaml(text)).toStrictEqual(expected);
}

describe('readYaml (js-yaml, core schema) agrees with the yaml package', () => {
  it.each(Object.entries({ ...inSubset, ...outside }))('%s', (_name, text) => {
    expectSameAsYamlPackage(text);
  });

  it('reads the jaffle_shop project and properties files', async () => {
    for (const file of ['dbt_project.yml', 'models/schema.yml', 'models/staging/schema.yml']) {
      expectSameAsYamlPackage(await readFile(join(jaffle, file), 'utf8'));
    }
  });

  it('reads the generated bench schema.yml with its flow mapping', () => {
    expectSameAsYamlPackage(benchYml);
  });

  it('accepts an implicit key over 1024 characters, which the yaml package refuses', () => {
    // YAML caps implicit keys at 1024 characters; js-yaml is lenient there, which no dbt file reaches.
    expect(readYaml(`${'k'.repeat(1100)}: 1\n`)).toStrictEqual({ ['k'.repeat(1100)]: 1 });
  });

  it('keeps the last value of a duplicated key, as PyYAML (dbt) does, where the yaml package refuses', () => {
    const text = [
      'columns:',
      '  - name: id',
      '    data_type: text',
      '    data_type: varchar',
      'a: 1',
      'a: 2',
    ].join('\n');
    expect(() => parse(text)).toThrow();
    expect(readYaml(text)).toStrictEqual({ columns: [{ name: 'id', data_type: 'varchar' }], a: 2 });
  });

  it('reports the 1-based line of a syntax error', () => {
    let error: unknown;
    try {
      readYaml('models:\n  - name: a\n    tests: [unique\n  - name: b\n');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect(yamlErrorLine(error)).toBeGreaterThanOrEqual(3);
  });
});
