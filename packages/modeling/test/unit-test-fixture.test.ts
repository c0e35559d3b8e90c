import { describe, expect, it } from 'vitest';
import { formatRowDiff, inferColumnType, parseFixture, planRowDiff } from '../src/index.js';

describe('parseFixture', () => {
  it('dict rows: columns in first-seen order, a missing key is NULL, mappings keep their JSON', () => {
    expect(
      parseFixture({
        rows: [
          { id: 1, tags: ['a'] },
          { id: 2, name: 'b' },
        ],
      }),
    ).toEqual({
      fixture: {
        format: 'dict',
        columns: ['id', 'tags', 'name'],
        rows: [
          { id: 1, tags: '["a"]', name: null },
          { id: 2, tags: null, name: 'b' },
        ],
      },
    });
  });
  it('csv rows: header order, empty cell is NULL, quoted commas', () => {
    expect(parseFixture({ format: 'csv', rows: 'id,name\n1,"a, b"\n2,\n' })).toEqual({
      fixture: {
        format: 'csv',
        columns: ['id', 'name'],
        rows: [
          { id: '1', name: 'a, b' },
          { id: '2', name: null },
        ],
      },
    });
  });
  it('sql rows and problems', () => {
    expect(parseFixture({ format: 'sql', rows: 'select 1 as id;\n' })).toEqual({
      fixture: { format: 'sql', sql: 'select 1 as id' },
    });
    expect(parseFixture({ format: 'xml', rows: [] }).problem).toBe(
      'format must be dict, csv or sql, got "xml"',
    );
    expect(parseFixture({ format: 'csv', rows: [{ id: 1 }] }).problem).toBe(
      'rows in csv format must be a CSV text with a header line',
    );
    expect(parseFixture({ rows: 'id\n1' }).problem).toBe(
      'rows in dict format must be a list of mappings such as - { id: 1 }',
    );
    expect(parseFixture({ format: 'csv', rows: 'id,name\n1,2,3' }).problem).toMatch(/^rows in csv format: /);
  });
});

describe('inferColumnType', () => {
  it.each([
    [[1, '2', null], 'bigint'],
    [[1, 2.5], 'numeric'],
    [['2024-01-01', null], 'date'],
    [['2024-01-01 10:00:00'], 'timestamp'],
    [['2024-01-01T10:00:00Z'], 'timestamptz'],
    [[true, 'false'], 'boolean'],
    [['2024-01-01', 'x'], 'text'],
    [[null], 'text'],
  ])('%j → %s', (values, type) => {
    expect(inferColumnType(values as never)).toBe(type);
  });
});

describe('row diff', () => {
  it('plans both multiset differences as text', () => {
    expect(planRowDiff('pg_temp."e"', 'pg_temp."a"', ['id', 'name'], 10)).toEqual({
      missing:
        'select "id"::text as "id", "name"::text as "name" from pg_temp."e"\nexcept all\nselect "id"::text as "id", "name"::text as "name" from pg_temp."a"\norder by 1, 2\nlimit 10',
      unexpected:
        'select "id"::text as "id", "name"::text as "name" from pg_temp."a"\nexcept all\nselect "id"::text as "id", "name"::text as "name" from pg_temp."e"\norder by 1, 2\nlimit 10',
    });
  });
  it('formats like dbt: --- expected only, +++ actual only, aligned', () => {
    expect(
      formatRowDiff({
        columns: ['id', 'customer_name'],
        missing: [{ id: '3', customer_name: 'dora' }],
        unexpected: [
          { id: '3', customer_name: null },
          { id: '10', customer_name: 'x' },
        ],
      }),
    ).toBe(['@@  | id | customer_name', '--- | 3  | dora', '+++ | 3  | null', '+++ | 10 | x'].join('\n'));
  });
});
