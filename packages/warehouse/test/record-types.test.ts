import { describe, expect, it } from 'vitest';
import { buildAlterColumnTypesSql } from '../src/column-widening.js';
import { pgTypeOf, typeChanges, widenedType } from '../src/record-types.js';

describe('record column types', () => {
  it('maps inferred types to PostgreSQL as format_type prints them', () => {
    expect(pgTypeOf('timestamptz')).toBe('timestamp with time zone');
    expect(pgTypeOf('timestamp')).toBe('timestamp without time zone');
    expect(pgTypeOf('jsonb')).toBe('jsonb');
  });

  it('widens along integer → bigint → numeric and date → timestamp → timestamptz, else to text', () => {
    expect(widenedType('integer', 'bigint')).toBe('bigint');
    expect(widenedType('integer', 'numeric')).toBe('numeric');
    expect(widenedType('bigint', 'integer')).toBeUndefined();
    expect(widenedType('numeric', 'bigint')).toBeUndefined();
    expect(widenedType('date', 'timestamptz')).toBe('timestamptz');
    expect(widenedType('timestamp without time zone', 'timestamptz')).toBe('timestamptz');
    expect(widenedType('timestamp with time zone', 'date')).toBeUndefined();
    expect(widenedType('boolean', 'integer')).toBe('text');
    expect(widenedType('jsonb', 'text')).toBe('text');
    expect(widenedType('integer', 'jsonb')).toBe('text');
    expect(widenedType('text', 'integer')).toBeUndefined();
    expect(widenedType('integer', 'integer')).toBeUndefined();
    // Types dataflow did not infer (declared before) are left alone.
    expect(widenedType('numeric(12,2)', 'text')).toBeUndefined();
    expect(widenedType('double precision', 'numeric')).toBeUndefined();
  });

  it('asks no change of declared columns', () => {
    const existing = new Map([
      ['a', 'integer'],
      ['b', 'integer'],
      ['c', 'integer'],
    ]);
    const changes = typeChanges(
      [
        { name: 'a', type: 'numeric', nullable: false },
        { name: 'b', type: 'numeric', nullable: false, declared: true },
        { name: 'c', type: 'numeric', nullable: false },
        { name: 'new', type: 'numeric', nullable: false },
      ],
      existing,
      { c: 'integer' },
    );
    expect(changes).toEqual([{ column: 'a', from: 'integer', to: 'numeric' }]);
  });

  it('builds one ALTER TABLE with casts', () => {
    expect(
      buildAlterColumnTypesSql('"raw"."raw_rates"', [
        { column: 'rate', from: 'integer', to: 'numeric' },
        { column: 'at', from: 'date', to: 'timestamptz' },
      ]),
    ).toBe(
      'ALTER TABLE "raw"."raw_rates" ALTER COLUMN "rate" TYPE numeric USING "rate"::numeric, ' +
        'ALTER COLUMN "at" TYPE timestamp with time zone USING "at"::timestamp with time zone',
    );
  });
});
