import { describe, expect, it } from 'vitest';
import { extractSnapshotBlocks, parseYmlSnapshots } from '../src/snapshot/parse.js';
import { parseInputTarget, parseUnitTests } from '../src/unit-test/parse.js';

describe('extractSnapshotBlocks', () => {
  it('finds every block with its line, ignoring text outside', () => {
    const text = `-- header\n{% snapshot a %}\nselect 1\n{% endsnapshot %}\n\n{%- snapshot b -%}select 2{%- endsnapshot -%}\n`;
    expect(extractSnapshotBlocks(text)).toEqual({
      blocks: [
        { name: 'a', body: '\nselect 1\n', line: 2 },
        { name: 'b', body: 'select 2', line: 6 },
      ],
      problems: [],
    });
  });
  it('reports a missing endsnapshot and a nested block', () => {
    expect(extractSnapshotBlocks('{% snapshot a %}\nselect 1').problems).toEqual([
      { message: 'snapshot a has no {% endsnapshot %}', line: 1 },
    ]);
    expect(extractSnapshotBlocks('{% snapshot a %}\n{% snapshot b %}\n{% endsnapshot %}').problems).toEqual([
      { message: 'snapshot a contains another snapshot block', line: 2 },
    ]);
  });
});

describe('parseYmlSnapshots', () => {
  it('reads relation, config, description and columns', () => {
    expect(
      parseYmlSnapshots(
        [
          {
            name: 's',
            relation: " source('raw', 'customers') ",
            config: { strategy: 'check' },
            columns: [{ name: 'id', description: 'key' }],
          },
          { name: 'bad', relation: 3 },
          'x',
        ],
        'snapshots/s.yml',
      ),
    ).toEqual({
      snapshots: [
        {
          name: 's',
          file: 'snapshots/s.yml',
          relation: "source('raw', 'customers')",
          config: { strategy: 'check' },
          columns: { id: { description: 'key' } },
        },
      ],
      problems: [
        "snapshot bad: relation must be ref('name') or source('source', 'table')",
        'snapshots: every entry needs a name',
      ],
    });
  });
});

describe('unit_tests YAML', () => {
  it.each([
    ["ref('stg_orders')", { kind: 'ref', name: 'stg_orders' }],
    ['ref("pkg", "stg_orders")', { kind: 'ref', name: 'stg_orders' }],
    ["ref('stg_orders', v=2)", { kind: 'ref', name: 'stg_orders' }],
    ["source('raw','orders')", { kind: 'source', source: 'raw', table: 'orders' }],
    [' this ', { kind: 'this' }],
    ['orders', undefined],
  ])('input %s', (input, target) => {
    expect(parseInputTarget(input)).toEqual(target);
  });

  it('parses given, expect, overrides and config; fixture files through the reader', () => {
    const { unitTests, problems } = parseUnitTests(
      [
        {
          name: 'totals',
          model: 'customer_totals',
          description: 'sums',
          given: [
            { input: "ref( 'stg_orders' )", rows: [{ id: 1 }] },
            { input: "source('raw', 'payments')", fixture: 'payments' },
            { input: 'this', format: 'sql', rows: 'select 1 as id' },
          ],
          expect: { format: 'csv', rows: 'id\n1\n' },
          overrides: {
            macros: { is_incremental: true },
            vars: { days: 3 },
            env_vars: { REGION: 'eu', N: 1 },
          },
          config: { tags: 'nightly', enabled: true },
        },
      ],
      'models/schema.yml',
      (name) => (name === 'payments' ? { format: 'csv', text: 'id,amount\n1,5\n' } : undefined),
    );
    expect(problems).toEqual([]);
    expect(unitTests).toEqual([
      {
        name: 'totals',
        model: 'customer_totals',
        file: 'models/schema.yml',
        description: 'sums',
        given: [
          {
            input: "ref('stg_orders')",
            target: { kind: 'ref', name: 'stg_orders' },
            fixture: { format: 'dict', columns: ['id'], rows: [{ id: 1 }] },
          },
          {
            input: "source('raw', 'payments')",
            target: { kind: 'source', source: 'raw', table: 'payments' },
            fixture: { format: 'csv', columns: ['id', 'amount'], rows: [{ id: '1', amount: '5' }] },
          },
          { input: 'this', target: { kind: 'this' }, fixture: { format: 'sql', sql: 'select 1 as id' } },
        ],
        expect: { format: 'csv', columns: ['id'], rows: [{ id: '1' }] },
        overrides: { macros: { is_incremental: true }, vars: { days: 3 }, envVars: { REGION: 'eu', N: '1' } },
        tags: ['nightly'],
        enabled: true,
      },
    ]);
  });

  it('collects every problem with the test name', () => {
    expect(
      parseUnitTests(
        [
          {
            name: 't',
            given: [
              { input: 'orders', rows: [] },
              { input: 'this', fixture: 'nope' },
            ],
            overrides: { vars: [1] },
          },
        ],
        'f.yml',
        () => undefined,
      ).problems,
    ).toEqual([
      'unit test t: model is required (the name of the model under test)',
      "unit test t: given: input must be ref('name'), source('source', 'table') or this, got \"orders\"",
      'unit test t: given this: fixture nope: no fixtures/nope.csv or .sql under the test paths',
      'unit test t: expect: expect is required (rows the model returns)',
      'unit test t: overrides.vars must be a mapping',
    ]);
  });
});
