import { describe, expect, it } from 'vitest';
import {
  declaredRecordType,
  RecordSchemaInferrer,
  temporalType,
  valueType,
  widenType,
} from '../src/index.js';

describe('valueType', () => {
  it.each([
    [1, 'integer'],
    [-2147483648, 'integer'],
    [2147483648, 'bigint'],
    [2 ** 60, 'numeric'],
    [1.5, 'numeric'],
    [true, 'boolean'],
    ['42', 'text'],
    ['2024-05-01', 'date'],
    ['2024-02-30', 'text'],
    ['2024-05-01T10:00:00', 'timestamp'],
    ['2024-05-01 10:00:00.123456', 'timestamp'],
    ['2024-05-01T10:00:00Z', 'timestamptz'],
    ['2024-05-01T10:00:00+05:30', 'timestamptz'],
    [{ a: 1 }, 'jsonb'],
    [[1, 2], 'jsonb'],
    [null, undefined],
    [undefined, undefined],
  ] as const)('%j → %s', (value, expected) => {
    expect(valueType(value)).toBe(expected);
  });

  it('temporalType tells zoned from unzoned timestamps', () => {
    expect(temporalType('2024-05-01T25:00:00Z')).toBeUndefined();
    expect(temporalType('2024-05-01T10:00Z')).toBe('timestamptz');
  });
});

describe('widenType', () => {
  it.each([
    ['integer', 'bigint', 'bigint'],
    ['bigint', 'numeric', 'numeric'],
    ['integer', 'numeric', 'numeric'],
    ['date', 'timestamp', 'timestamp'],
    ['timestamp', 'timestamptz', 'timestamptz'],
    ['date', 'timestamptz', 'timestamptz'],
    ['integer', 'boolean', 'text'],
    ['jsonb', 'integer', 'text'],
    ['date', 'integer', 'text'],
    ['jsonb', 'jsonb', 'jsonb'],
  ] as const)('%s + %s → %s', (a, b, expected) => {
    expect(widenType(a, b)).toBe(expected);
    expect(widenType(b, a)).toBe(expected);
  });
});

describe('RecordSchemaInferrer', () => {
  it('infers every column over all records, widening and marking nullable', () => {
    const s = new RecordSchemaInferrer();
    s.add({ id: 1, amount: 2, paid: true, at: '2024-05-01', payload: { a: 1 }, tags: ['x'] });
    s.add({ id: 3_000_000_000, amount: 2.5, paid: false, at: '2024-05-01T10:00:00+02:00', payload: null });
    s.add({ id: 7, amount: 1, paid: true, at: '2024-05-02', note: 'late' });
    expect(s.columns()).toEqual([
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'amount', type: 'numeric', nullable: false },
      { name: 'paid', type: 'boolean', nullable: false },
      { name: 'at', type: 'timestamptz', nullable: false },
      { name: 'payload', type: 'jsonb', nullable: true },
      { name: 'tags', type: 'jsonb', nullable: true },
      { name: 'note', type: 'text', nullable: true },
    ]);
  });

  it('lets declared types win and lists declared columns no record had', () => {
    const s = new RecordSchemaInferrer();
    s.add({ id: 1, code: '12', empty: null });
    expect(s.columns({ code: 'varchar(10)', id: 'BIGINT', extra: 'numeric(12,2)' })).toEqual([
      { name: 'id', type: 'bigint', nullable: false, declared: true, declaredType: 'BIGINT' },
      { name: 'code', type: 'text', nullable: false, declared: true, declaredType: 'varchar(10)' },
      { name: 'empty', type: 'text', nullable: true },
      { name: 'extra', type: 'numeric', nullable: true, declared: true, declaredType: 'numeric(12,2)' },
    ]);
  });

  it('maps declared PostgreSQL types to the record types', () => {
    expect(declaredRecordType('double precision')).toBe('numeric');
    expect(declaredRecordType('json')).toBe('jsonb');
    expect(declaredRecordType('timestamp with time zone')).toBe('timestamptz');
    expect(declaredRecordType('uuid')).toBe('text');
  });
});
